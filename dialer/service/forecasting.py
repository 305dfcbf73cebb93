"""Gather what the pure forecast needs from PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from dialer.forecast import ContactGroup, simulate
from dialer.service.runtime import Runtime
from dialer.service.steps.campaign_state import campaign_spec, load_campaign
from dialer.service.targets import zones_for
from dialer.spec import CampaignSpec
from dialer.statuses import PARTICIPANT_OPEN, Outcome
from dialer.views import Forecast
from models.tables import Call, Contact, Participant

DEFAULT_TALK_S = 90.0
DEFAULT_RETRY_SHARE = 0.35


def forecast(rt: Runtime, campaign_id: str) -> Forecast:
    now = rt.clock.now()
    with rt.sessions() as session:
        campaign = load_campaign(session, campaign_id)
        spec = campaign_spec(campaign)
        # Contacts are grouped by their time zone and number prefix (+1 and the
        # area code): the prefix decides the zone, so a group shares its windows.
        prefix = func.left(Participant.phone, 5)
        rows = session.execute(
            select(Contact.timezone, prefix, func.min(Participant.phone), func.count())
            .join(Contact, Contact.id == Participant.contact_id)
            .where(Participant.campaign_id == campaign.id, Participant.status.in_(PARTICIPANT_OPEN))
            .group_by(Contact.timezone, prefix)).all()
        history = session.execute(select(
            func.avg(func.extract("epoch", Call.ended_at - Call.placed_at)),
            func.count(),
            func.count().filter(Call.outcome.in_(_retrying_outcomes(spec))),
        ).where(Call.campaign_id == campaign.id, Call.ended_at.is_not(None),
                Call.placed_at.is_not(None))).one()
    groups: dict[tuple, int] = {}
    for timezone, _prefix, phone, count in rows:
        zones, guard = zones_for(spec, phone, timezone)
        groups[(zones, guard)] = groups.get((zones, guard), 0) + count
    avg_call_s, ended, retried = history
    if not ended:
        avg_call_s = spec.call_handling.ring_timeout_s / 2 + min(
            DEFAULT_TALK_S, spec.call_handling.max_duration_s)
    retry_share = retried / ended if ended else DEFAULT_RETRY_SHARE
    result = simulate(
        spec=spec, groups=[ContactGroup(z, g, n) for (z, g), n in groups.items()], now=now,
        avg_call_s=float(avg_call_s), retry_share=retry_share,
        org_cap=rt.settings.org_channel_cap)
    return Forecast(calls_per_hour=round(result.calls_per_hour, 1), eta=result.eta)


def _retrying_outcomes(spec: CampaignSpec) -> list[str]:
    outcomes = [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED]
    if spec.retry.retry_on_voicemail:
        outcomes.append(Outcome.VOICEMAIL)
    return outcomes
