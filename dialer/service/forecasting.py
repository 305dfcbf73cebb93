"""Gather what the pure forecast needs from PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialer.forecast import HORIZON, ContactGroup, no_calls_reason, simulate
from dialer.service.runtime import Runtime
from dialer.service.steps.campaign_creation import checked_spec
from dialer.service.steps.campaign_state import campaign_spec, load_campaign
from dialer.service.targets import zones_for
from dialer.spec import CampaignSpec
from dialer.statuses import Outcome
from dialer.store import reads
from dialer.views import Forecast, OrgRef

DEFAULT_TALK_S = 90.0
DEFAULT_RETRY_SHARE = 0.35


def forecast(rt: Runtime, org: OrgRef, campaign_id: str) -> Forecast:
    now = rt.clock.now()
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        spec = campaign_spec(campaign)
        # Contacts are grouped by their time zone and number prefix: a group shares
        # its windows.
        rows = reads.open_contact_groups(session, campaign.id)
        avg_call_s, ended, retried = reads.ended_call_history(
            session, campaign.id, retrying=_retrying_outcomes(spec))
    if avg_call_s is None or not ended:
        avg_call_s = _default_call_s(spec)
    retry_share = retried / ended if ended else DEFAULT_RETRY_SHARE
    result = simulate(
        spec=spec, groups=_groups(spec, rows), now=now,
        avg_call_s=float(avg_call_s), retry_share=retry_share,
        org_cap=org.channel_cap)
    return _view(spec, result.calls_per_hour, result.eta, org)


def estimate(rt: Runtime, org: OrgRef, spec_dict: dict[str, Any],
             campaign_id: str | None = None) -> Forecast:
    """The forecast of a campaign not yet saved (the console's form): the spec checked
    as a creation checks it (ValidationError naming every bad field; the start instant
    and the agent are not required), from its start when later than now. For a new
    campaign: its audience's contacts in place of participants and no call history
    (the default talk time and retry share). For an edit of ``campaign_id`` (NotFound
    for another organisation's) that keeps its audience: the campaign's open
    participants and its call history, as its own forecast."""
    now = rt.clock.now()
    with rt.unit_of_work() as session:
        spec = checked_spec(session, spec_dict, org_id=org.id, now=now, check_schedule=False,
                            references=frozenset({"audience_id"}))
        assert spec.audience_id is not None  # checked: required
        campaign = (None if campaign_id is None
                    else load_campaign(session, campaign_id, org_id=org.id))
        if campaign is not None and campaign.audience_id == spec.audience_id:
            rows = reads.open_contact_groups(session, campaign.id)
            avg_call_s, ended, retried = reads.ended_call_history(
                session, campaign.id, retrying=_retrying_outcomes(spec))
        else:
            rows = reads.audience_contact_groups(session, spec.audience_id)
            avg_call_s, ended, retried = None, 0, 0
    start = max(now, spec.scheduled_at) if spec.scheduled_at else now
    result = simulate(spec=spec, groups=_groups(spec, rows), now=start,
                      avg_call_s=float(avg_call_s) if avg_call_s and ended
                      else _default_call_s(spec),
                      retry_share=retried / ended if ended else DEFAULT_RETRY_SHARE,
                      org_cap=org.channel_cap)
    return _view(spec, result.calls_per_hour, result.eta, org)


def _view(spec: CampaignSpec, calls_per_hour: float, eta: datetime | None,
          org: OrgRef) -> Forecast:
    return Forecast(calls_per_hour=round(calls_per_hour, 1), eta=eta,
                    horizon_days=HORIZON.days,
                    no_calls_reason=no_calls_reason(spec, org_cap=org.channel_cap))


def _default_call_s(spec: CampaignSpec) -> float:
    """A call's seconds before the campaign has any: half the ring, then the talk."""
    return spec.call_handling.ring_timeout_s / 2 + min(
        DEFAULT_TALK_S, spec.call_handling.max_duration_s)


def _groups(spec: CampaignSpec, rows: list[tuple[str | None, str, int]]) -> list[ContactGroup]:
    """Contacts grouped by their calling zones: a group shares its windows."""
    groups: dict[tuple, int] = {}
    for timezone, phone, count in rows:
        zones, guard = zones_for(spec, phone, timezone)
        groups[(zones, guard)] = groups.get((zones, guard), 0) + count
    return [ContactGroup(z, g, n) for (z, g), n in groups.items()]


def _retrying_outcomes(spec: CampaignSpec) -> list[str]:
    outcomes: list[str] = [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED]
    if spec.retry.retry_on_voicemail:
        outcomes.append(Outcome.VOICEMAIL)
    return outcomes
