"""Settling a call's outcome: end the call, decide the contact's next step, free
the channel, feed the breaker, refill. The result does it with the provider's
outcome, the sweep with ``failed`` for a call silent past its deadline.

One transaction: ending the call also reads (and locks) its participant and
what the retry policy needs; the participant's update follows, and the
campaign is completed in the same transaction when it was the last open
participant, if its row is free. Two last results committing at once may
each see the other still open, and the row may be held (by a tick about to
fail the campaign, a late answer, a dial's claim): then the next tick
completes the campaign (it checks every running campaign). The campaign's
row is held ``FOR KEY SHARE`` until the commit, taken before the call's
(ARCHITECTURE.md, "Locks"): a stop or a failure (``FOR UPDATE``) waits for
this result or goes first, so a retry is never scheduled in a campaign
stopped meanwhile, and a call the failure closed is found closed. Ticks and
refills lock it ``FOR NO KEY UPDATE``, which does not conflict. Completion
asks for it ``FOR UPDATE SKIP LOCKED``: waiting there, holding the call and
the participant, deadlocked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.breaker import counts_as_failure, should_trip
from dialer.provider import NO_EXTRAS, ResultExtras
from dialer.retry import next_step
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import CachedSpec, cached_spec
from dialer.service.steps import campaign_state
from dialer.service.steps.planning import plan_horizon_s, refill
from dialer.service.targets import zones_for
from dialer.statuses import PARTICIPANT_TERMINAL
from dialer.statuses import ParticipantStatus as P
from dialer.store import calls, participants
from dialer.store.events import record_skip

log = logging.getLogger(__name__)

# The detail the sweep writes on a call closed at its deadline: the mark of a
# ``failed`` that was our guess, not the provider's word (results.reconcile_late_result).
DEADLINE_DETAIL = "no result before the call's deadline"


@dataclass(frozen=True)
class Ended:
    """A call just ended, its contact settled (committed by the caller)."""

    call_id: str
    campaign_id: str
    attempt: int
    outcome: str
    entry: CachedSpec
    refill_wanted: bool  # the campaign runs, was busy, and has contacts due


def end_call(rt: Runtime, session: Session, call_id: str, *, outcome: str,
             duration_s: float = 0.0, goal_achieved: bool | None = None,
             detail: str | None = None, now: datetime,
             extras: ResultExtras = NO_EXTRAS) -> Ended | None:
    """End a call holding a channel and settle its contact, uncommitted; None when no
    call by that id holds a channel (a replay, an unknown id, a call already closed)."""
    row = calls.end(session, call_id, outcome=outcome, now=now,
                    due_by_at=now + timedelta(seconds=plan_horizon_s(rt)),
                    duration_s=max(0.0, float(duration_s or 0.0)), goal_achieved=goal_achieved,
                    detail=(detail or None) and str(detail)[:2000], extras=extras)
    if row is None:
        return None
    entry = cached_spec(session, row.campaign_id, row.spec_digest)
    status, others_open = _settle_participant(session, entry, row, outcome=outcome,
                                              goal_achieved=goal_achieved, now=now)
    if status in PARTICIPANT_TERMINAL and not others_open:
        campaign_state.complete_if_done(session, row.campaign_id, now=now, wait=False)
    channels = entry.spec.pacing.channels
    return Ended(call_id=call_id, campaign_id=row.campaign_id, attempt=row.attempt,
                 outcome=outcome, entry=entry,
                 refill_wanted=(row.campaign_status == st.CampaignStatus.RUNNING
                                and row.due_waiting
                                and _was_busy(int(row.in_flight_before), channels)))


def after_commit(rt: Runtime, ended: Ended, *, now: datetime) -> str:
    """Free the channel, feed the breaker, refill the freed channel; ``recorded``."""
    campaign_id, call_id, outcome = ended.campaign_id, ended.call_id, ended.outcome
    rt.leases.release(call_id, campaign_id=campaign_id, org_id=ended.entry.org_id)
    breaker_spec = ended.entry.spec.safety.circuit_breaker
    if breaker_spec.enabled:
        window = rt.breaker.record(campaign_id, call_id, failed=counts_as_failure(outcome),
                                   window=breaker_spec.window)
        if should_trip(total=window.total, failures=window.failures, spec=breaker_spec):
            with rt.transaction() as session:
                tripped = campaign_state.trip_breaker(
                    session, campaign_id, now=now,
                    detail=f"{window.failures} failed of the last {window.total} calls "
                           f"(threshold {breaker_spec.failure_rate:.0%}, "
                           f"min {breaker_spec.min_calls})")
            if tripped:
                log.warning("circuit breaker tripped for campaign %s", campaign_id)
                return _logged(ended)
    if ended.refill_wanted:
        refill(rt, campaign_id, now)
    return _logged(ended)


def release_if_ended(rt: Runtime, session: Session, call_id: str) -> None:
    """A result for a call that is no longer holding a channel: a replay, or a result
    retried after its commit (a soft time limit, Redis away at the release). The
    channel may still be held: release it again (a no-op when it is not)."""
    owner = calls.ended_in(session, call_id)
    session.commit()
    if owner is not None:
        campaign_id, org_id = owner
        rt.leases.release(call_id, campaign_id=campaign_id, org_id=org_id)


def _was_busy(in_flight_before: int, channels: int) -> bool:
    """Whether the channel just freed is worth refilling before the next tick.

    A campaign using more than half its channels is held back by them: the
    freed one would idle until the tick. One using fewer is held back by
    something else (pacing, the organisation cap, the tick's own batch), and
    a refill per result would only do the tick's work one call at a time.
    ``in_flight_before`` still counts this call: the statement that ended it
    does not see its own change.
    """
    return 2 * in_flight_before > channels


def _logged(ended: Ended) -> str:
    log.info("call %s attempt %d ended: %s", ended.call_id, ended.attempt, ended.outcome)
    return "recorded"


def _settle_participant(session: Session, entry: CachedSpec, row: Row[Any], *, outcome: str,
                        goal_achieved: bool | None, now: datetime) -> tuple[str, bool]:
    """Apply the retry policy to the participant (locked by ending its call).

    Returns its new status, and whether other participants of the campaign are open.
    """
    spec = entry.spec
    participant_id: int = row.participant_id
    status, next_attempt_at, skip_reason = P.COMPLETED, None, None
    phone, phone_index = row.phone, row.phone_index
    # A contact completed by an earlier attempt's late answer (results.reconcile_late_result)
    # while this one was already placed stays completed, and keeps that answer.
    keep = row.participant_status == P.COMPLETED
    if not keep:
        # The contact's numbers: index 0 is the primary (the participant's phone while
        # it is dialed), index k the k-th secondary.
        secondary: list[str] = list(row.secondary_phones or [])

        def number(index: int) -> str:
            return row.phone if index == row.phone_index else secondary[index - 1]

        step, on_number = next_step(
            outcome=outcome, goal_achieved=goal_achieved, phone_index=row.phone_index,
            phone_attempts=row.phone_attempts, numbers=1 + len(secondary), policy=spec.retry,
            ended_at=now, rules=entry.rules, answered_before=row.answered_phone is not None,
            zones_of=lambda index: zones_for(spec, number(index), row.timezone))
        phone_index = on_number.phone_index
        phone = number(phone_index)
        decision = step.decision
        status = P(step.status)
        if (decision.status == P.RETRY_SCHEDULED
                and row.campaign_status == st.CampaignStatus.STOPPED):
            status = P.CANCELED
        elif decision.status == P.RETRY_SCHEDULED:
            next_attempt_at, skip_reason = step.at, step.skip_reason
            if decision.held_by != "retry_delay":
                assert decision.not_before is not None
                record_skip(session, row.campaign_id, participant_id, at=now, reason="cooldown",
                            detail=f"{decision.held_by} until {decision.not_before.isoformat()}")
    others_open = participants.settle(
        session, participant_id, status=status, next_attempt_at=next_attempt_at,
        outcome=outcome, keep_outcome=keep, skip_reason=skip_reason,
        answered=outcome == st.Outcome.ANSWERED and not keep, phone=phone,
        phone_index=phone_index, now=now)
    return status, others_open
