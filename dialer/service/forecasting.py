"""Gather what the pure forecast needs from PostgreSQL."""

from __future__ import annotations

from dialer.forecast import ContactGroup, simulate
from dialer.service.runtime import Runtime
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
    groups: dict[tuple, int] = {}
    for timezone, phone, count in rows:
        zones, guard = zones_for(spec, phone, timezone)
        groups[(zones, guard)] = groups.get((zones, guard), 0) + count
    if avg_call_s is None or not ended:
        avg_call_s = spec.call_handling.ring_timeout_s / 2 + min(
            DEFAULT_TALK_S, spec.call_handling.max_duration_s)
    retry_share = retried / ended if ended else DEFAULT_RETRY_SHARE
    result = simulate(
        spec=spec, groups=[ContactGroup(z, g, n) for (z, g), n in groups.items()], now=now,
        avg_call_s=float(avg_call_s), retry_share=retry_share,
        org_cap=org.channel_cap)
    return Forecast(calls_per_hour=round(result.calls_per_hour, 1), eta=result.eta)


def _retrying_outcomes(spec: CampaignSpec) -> list[str]:
    outcomes: list[str] = [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED]
    if spec.retry.retry_on_voicemail:
        outcomes.append(Outcome.VOICEMAIL)
    return outcomes
