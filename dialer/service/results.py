"""A call's outcome: end the call, free its channel, decide the contact's next step.

Results may arrive twice, late, or for calls we never placed: the
conditional update on the call's status makes every replay a no-op.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.breaker import counts_as_failure, should_trip
from dialer.calendar import CallingRules
from dialer.retry import decide_after_outcome
from dialer.service import campaigns as campaign_service
from dialer.service.events import record_skip
from dialer.service.runtime import Runtime
from dialer.service.targets import zones_for
from dialer.spec import CampaignSpec
from dialer.statuses import Participant as P
from models.db import transaction
from models.tables import Call, Campaign, Contact, Participant

log = logging.getLogger(__name__)


def record_result(
    rt: Runtime, call_id: str, *, outcome: str, duration_s: float = 0.0,
    goal_achieved: bool | None = None, detail: str | None = None,
) -> str:
    """Returns ``recorded`` or ``ignored``."""
    now = rt.clock.now()
    if outcome not in st.Outcome.ALL:
        log.warning("result for call %s has unknown outcome %r: ignored", call_id, outcome)
        return "ignored"
    with transaction(rt.sessions) as session:
        ended = session.execute(
            update(Call).where(Call.id == str(call_id),
                               Call.status.in_(st.Call.HOLDING_CHANNEL),
                               Call.placed_at.is_not(None))
            .values(status=st.Call.ENDED, outcome=outcome, ended_at=now,
                    duration_s=max(0.0, float(duration_s or 0.0)), goal_achieved=goal_achieved,
                    detail=(detail or None) and str(detail)[:2000])
            .returning(Call.participant_id, Call.campaign_id, Call.attempt)).first()
        if ended is None:
            log.info("result for unknown or finished call %s: ignored", call_id)
            return "ignored"
        participant_id, campaign_id, attempt = ended
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        spec = campaign_service.campaign_spec(campaign)
        participant = session.scalar(select(Participant).where(Participant.id == participant_id)
                                     .with_for_update())
        assert participant is not None
        decision = decide_after_outcome(outcome=outcome, goal_achieved=goal_achieved,
                                        attempts_made=participant.attempts, policy=spec.retry,
                                        ended_at=now)
        participant.last_outcome = outcome
        participant.updated_at = now
        if decision.status == P.RETRY_SCHEDULED and campaign.status == st.STOPPED:
            participant.status = P.CANCELED
            participant.next_attempt_at = None
        elif decision.status == P.RETRY_SCHEDULED:
            assert decision.not_before is not None
            participant.status = P.RETRY_SCHEDULED
            participant.next_attempt_at = _next_opening(session, spec, participant,
                                                        decision.not_before)
            if decision.held_by != "retry_delay":
                record_skip(session, campaign_id, participant.id, at=now, reason="cooldown",
                            detail=f"{decision.held_by} until {decision.not_before.isoformat()}")
            if participant.next_attempt_at is None:
                participant.status = P.SKIPPED
                participant.skip_reason = "calendar_closed"
        else:
            participant.status = decision.status
            participant.next_attempt_at = None
        breaker_spec = spec.safety.circuit_breaker
    rt.leases.release(str(call_id), campaign_id=campaign_id)
    if breaker_spec.enabled:
        window = rt.breaker.record(campaign_id, str(call_id), failed=counts_as_failure(outcome),
                                   window=breaker_spec.window)
        if should_trip(total=window.total, failures=window.failures, spec=breaker_spec):
            with transaction(rt.sessions) as session:
                tripped = campaign_service.trip_breaker(
                    session, campaign_id, now=now,
                    detail=f"{window.failures} failed of the last {window.total} calls "
                           f"(threshold {breaker_spec.failure_rate:.0%}, "
                           f"min {breaker_spec.min_calls})")
            if tripped:
                log.warning("circuit breaker tripped for campaign %s", campaign_id)
    with transaction(rt.sessions) as session:
        campaign_service.complete_if_done(session, campaign_id, now=now)
    log.info("call %s attempt %d ended: %s", call_id, attempt, outcome)
    return "recorded"


def _next_opening(session: Session, spec: CampaignSpec, participant: Participant,
                  not_before: datetime) -> datetime | None:
    """Retries also wait for the calendar: the first opening after the delay."""
    timezone = session.scalar(select(Contact.timezone).where(Contact.id == participant.contact_id))
    zones, guard = zones_for(spec, participant.phone, timezone)
    rules = CallingRules(schedule=spec.schedule, campaign_timezone=spec.timezone,
                         business_hours_guard=spec.safety.business_hours_guard)
    return rules.next_opening(not_before, zones, guard)
