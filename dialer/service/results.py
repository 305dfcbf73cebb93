"""A call's outcome: end the call, free its channel, decide the contact's next step.

Results may arrive twice, late, or for calls we never placed: the
conditional update on the call's status makes every replay a no-op.

One transaction: ending the call also reads (and locks) its participant and
what the retry policy needs; the participant's update follows, and the
campaign is completed in the same transaction when it was the last open
participant. Two last results committing at once may each see the other
still open: then the next tick completes the campaign (it checks every
running campaign). The campaign's row is held ``FOR KEY SHARE`` until the
commit: a stop (``FOR UPDATE``) waits for this result or goes first, so a
retry is never scheduled in a campaign stopped meanwhile. Ticks and refills
lock it ``FOR NO KEY UPDATE``, which does not conflict. The channel freed
here is offered at once to the campaign's next contact (``tick.refill``)
instead of waiting for the tick.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.breaker import counts_as_failure, should_trip
from dialer.retry import decide_after_outcome
from dialer.service.connections import joined_session, sql_list
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import SPEC_DIGEST_SQL, CachedSpec, cached_spec
from dialer.service.steps import campaign_state
from dialer.service.targets import zones_for
from dialer.service.tick import plan_horizon_s, refill
from dialer.statuses import PARTICIPANT_OPEN, PARTICIPANT_TERMINAL
from dialer.statuses import ParticipantStatus as P
from dialer.store.events import record_event, record_skip
from models.db import transaction

log = logging.getLogger(__name__)

_END_CALL = text(f"""
    WITH ended AS (
        UPDATE calls SET status = 'ended', outcome = :outcome, ended_at = :now,
            duration_s = :duration_s, goal_achieved = :goal_achieved, detail = :detail
        WHERE id = :call_id AND status IN ('dialing', 'placed') AND placed_at IS NOT NULL
        RETURNING participant_id, campaign_id, attempt)
    SELECT e.participant_id, e.campaign_id, e.attempt, c.status AS campaign_status,
        {SPEC_DIGEST_SQL} AS spec_digest, p.attempts, p.phone, p.status AS participant_status,
        (SELECT ct.timezone FROM contacts ct WHERE ct.id = p.contact_id) AS timezone,
        c.channels, (SELECT count(*) FROM calls q WHERE q.campaign_id = e.campaign_id
                     AND q.status IN ('queued', 'dialing', 'placed')) AS in_flight_before,
        EXISTS (SELECT 1 FROM participants w
                WHERE w.campaign_id = e.campaign_id AND w.status IN ('pending', 'retry_scheduled')
                  AND w.next_attempt_at <= :due_before) AS due_waiting
    FROM ended e JOIN campaigns c ON c.id = e.campaign_id
        JOIN participants p ON p.id = e.participant_id
    FOR UPDATE OF p FOR KEY SHARE OF c
""")


def _settle_participant_sql(assignments: str) -> TextClause:
    """Update participant ``:id``, and say whether any *other* participant of its
    campaign is still open (the update is not visible to the rest of its own
    statement, hence the CTE)."""
    return text(f"""
        WITH settled AS (
            UPDATE participants SET {assignments} WHERE id = :id RETURNING campaign_id)
        SELECT EXISTS (
            SELECT 1 FROM participants o JOIN settled s ON o.campaign_id = s.campaign_id
            WHERE o.id <> :id AND o.status IN {sql_list(PARTICIPANT_OPEN)})
    """)


_SET_PARTICIPANT = _settle_participant_sql("""
    status = :status, next_attempt_at = :next_attempt_at,
    last_outcome = CASE WHEN :keep_outcome THEN last_outcome ELSE :outcome END,
    skip_reason = COALESCE(:skip_reason, skip_reason), updated_at = :now""")


# The detail the sweep writes on a call closed at its deadline: the mark of a
# ``failed`` that was our guess, not the provider's word (see reconcile_late_result).
DEADLINE_DETAIL = "no result before the call's deadline"

_RECONCILE_CALL = text(f"""
    WITH fixed AS (
        UPDATE calls SET outcome = :outcome, duration_s = :duration_s,
            goal_achieved = :goal_achieved, detail = :detail
        WHERE id = :call_id AND status = 'ended' AND outcome = 'failed'
          AND detail = :timed_out
        RETURNING participant_id, campaign_id, attempt, cycle)
    SELECT f.participant_id, f.campaign_id, f.attempt, f.cycle, c.status AS campaign_status,
        {SPEC_DIGEST_SQL} AS spec_digest, p.cycle AS participant_cycle
    FROM fixed f JOIN campaigns c ON c.id = f.campaign_id
        JOIN participants p ON p.id = f.participant_id
    FOR KEY SHARE OF c
""")

# A retry queued but not claimed by a dial yet (one being claimed is skipped:
# it is about to be placed, and counts as placed).
_CANCEL_QUEUED = text("""
    DELETE FROM calls WHERE id IN (
        SELECT id FROM calls WHERE participant_id = :participant_id AND status = 'queued'
            AND placed_at IS NULL FOR UPDATE SKIP LOCKED)
    RETURNING attempt
""")

_ENDED_CALL_CAMPAIGN = text("SELECT campaign_id FROM calls WHERE id = :call_id "
                            "AND status = 'ended'")

_LOCK_PARTICIPANT = text("SELECT 1 FROM participants WHERE id = :id FOR UPDATE")

_IN_FLIGHT = text(f"""
    SELECT attempt FROM calls WHERE participant_id = :participant_id
        AND status IN {sql_list(st.CALL_IN_FLIGHT)} ORDER BY attempt
""")

_COMPLETE_PARTICIPANT = _settle_participant_sql(f"""
    status = '{P.COMPLETED}', next_attempt_at = NULL, last_outcome = :outcome,
    attempts = attempts - :uncounted, updated_at = :now""")

def record_result(
    rt: Runtime, call_id: str, *, outcome: str, duration_s: float = 0.0,
    goal_achieved: bool | None = None, detail: str | None = None,
) -> str:
    """Returns ``recorded``, ``reconciled`` (late, see reconcile_late_result) or ``ignored``."""
    now = rt.clock.now()
    if outcome not in st.OUTCOMES:
        log.warning("result for call %s has unknown outcome %r: ignored", call_id, outcome)
        return "ignored"
    with rt.engine.connect() as conn:
        row = conn.execute(_END_CALL, {
            "call_id": str(call_id), "outcome": outcome, "now": now,
            "due_before": now + timedelta(seconds=plan_horizon_s(rt)),
            "duration_s": max(0.0, float(duration_s or 0.0)), "goal_achieved": goal_achieved,
            "detail": (detail or None) and str(detail)[:2000]}).first()
        if row is None:
            if reconcile_late_result(conn, call_id, outcome=outcome, duration_s=duration_s,
                                     goal_achieved=goal_achieved, detail=detail, now=now):
                conn.commit()
                return "reconciled"
            ended_in = conn.execute(_ENDED_CALL_CAMPAIGN, {"call_id": str(call_id)}).scalar()
            conn.commit()
            if ended_in is not None:
                # A replay, or this result retried after its commit (a soft time
                # limit, Redis away at the release): the channel may still be held.
                rt.leases.release(str(call_id), campaign_id=ended_in)
            log.info("result for unknown or finished call %s: ignored", call_id)
            return "ignored"
        entry = cached_spec(conn, row.campaign_id, row.spec_digest)
        with joined_session(conn) as session:
            status, others_open = _settle_participant(session, entry, row, outcome=outcome,
                                                      goal_achieved=goal_achieved, now=now)
            if status in PARTICIPANT_TERMINAL and not others_open:
                campaign_state.complete_if_done(session, row.campaign_id, now=now)
        conn.commit()
    campaign_id = row.campaign_id
    rt.leases.release(str(call_id), campaign_id=campaign_id)
    breaker_spec = entry.spec.safety.circuit_breaker
    if breaker_spec.enabled:
        window = rt.breaker.record(campaign_id, str(call_id), failed=counts_as_failure(outcome),
                                   window=breaker_spec.window)
        if should_trip(total=window.total, failures=window.failures, spec=breaker_spec):
            with transaction(rt.sessions) as trip_session:
                tripped = campaign_state.trip_breaker(
                    trip_session, campaign_id, now=now,
                    detail=f"{window.failures} failed of the last {window.total} calls "
                           f"(threshold {breaker_spec.failure_rate:.0%}, "
                           f"min {breaker_spec.min_calls})")
            if tripped:
                log.warning("circuit breaker tripped for campaign %s", campaign_id)
                return _logged(call_id, row.attempt, outcome)
    if row.campaign_status == st.CampaignStatus.RUNNING and row.due_waiting and _was_busy(row):
        refill(rt, campaign_id, now)
    return _logged(call_id, row.attempt, outcome)


def reconcile_late_result(conn: Connection, call_id: str, *, outcome: str, duration_s: float,
                          goal_achieved: bool | None, detail: str | None,
                          now: datetime) -> bool:
    """The real outcome of a call the sweep already closed as ``failed``.

    Late is not wrong: the call gets its real outcome, and when that outcome
    ends the contact (it answered), the contact's pending retry is canceled:
    a retry still waiting for the tick, or queued but not yet claimed (that
    call row is deleted and its attempt not counted), and the participant
    is completed. A retry already claimed or placed cannot be undone: the
    event says so, and the participant stays completed whatever that call
    brings. Anything else (a real ``no_answer`` instead of the timeout's
    ``failed``) only corrects the call. Replays find the call corrected and
    change nothing. Returns whether a call was reconciled (nothing is
    committed here: the caller commits).
    """
    if outcome == st.Outcome.FAILED and detail == DEADLINE_DETAIL:
        return False  # the sweep closing it again (two beats, a redelivered sweep)
    row = conn.execute(_RECONCILE_CALL, {
        "call_id": str(call_id), "outcome": outcome, "timed_out": DEADLINE_DETAIL,
        "duration_s": max(0.0, float(duration_s or 0.0)), "goal_achieved": goal_achieved,
        "detail": (detail or None) and str(detail)[:2000]}).first()
    if row is None:
        return False
    spec = cached_spec(conn, row.campaign_id, row.spec_digest).spec
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal_achieved,
                                    attempts_made=row.attempt, policy=spec.retry, ended_at=now)
    what = f"call {call_id} attempt {row.attempt}: {outcome} after its deadline (was failed)"
    with joined_session(conn) as session:
        if decision.status == P.COMPLETED and row.participant_cycle == row.cycle:
            what += _complete_late(session, row, outcome=outcome, now=now)
        record_event(session, row.campaign_id, at=now, action="result_reconciled", detail=what)
    log.warning("result reconciled: %s", what)
    return True


def _complete_late(session: Session, row: Row[Any], *, outcome: str, now: datetime) -> str:
    """Complete a participant whose earlier attempt turned out to have answered."""
    # The participant first: a tick holding it may be queuing a retry, which the
    # statements below then see (each reads what has committed when it starts).
    # No deadlock with a dial (call, then participant): the calls are skipped
    # when locked, never waited for.
    session.execute(_LOCK_PARTICIPANT, {"id": row.participant_id})
    canceled = session.execute(_CANCEL_QUEUED, {"participant_id": row.participant_id}).all()
    in_flight = session.execute(_IN_FLIGHT, {"participant_id": row.participant_id}).all()
    others_open = session.execute(_COMPLETE_PARTICIPANT, {
        "id": row.participant_id, "outcome": outcome, "uncounted": len(canceled),
        "now": now}).scalar_one()
    note = "; contact completed"
    if canceled:
        note += f"; queued retry canceled (attempt {', '.join(str(c.attempt) for c in canceled)})"
    if in_flight:
        note += ("; attempt " + ", ".join(str(c.attempt) for c in in_flight)
                 + " already placed, cannot be undone")
    # With a call of its own still in flight, that call's result completes the campaign.
    if not others_open and not in_flight and row.campaign_status == st.CampaignStatus.RUNNING:
        campaign_state.complete_if_done(session, row.campaign_id, now=now)
    return note


def _was_busy(row: Row[Any]) -> bool:
    """Whether the channel just freed is worth refilling before the next tick.

    A campaign using more than half its channels is held back by them: the
    freed one would idle until the tick. One using fewer is held back by
    something else (pacing, the organisation cap, the tick's own batch), and
    a refill per result would only do the tick's work one call at a time.
    ``in_flight_before`` still counts this call: the statement that ended it
    does not see its own change.
    """
    return 2 * int(row.in_flight_before) > int(row.channels)


def _logged(call_id: str, attempt: int, outcome: str) -> str:
    log.info("call %s attempt %d ended: %s", call_id, attempt, outcome)
    return "recorded"


def _settle_participant(session: Session, entry: CachedSpec, row: Row[Any], *, outcome: str,
                        goal_achieved: bool | None, now: datetime) -> tuple[str, bool]:
    """Apply the retry policy to the participant (locked by the caller).

    Returns its new status, and whether other participants of the campaign are open.
    """
    spec = entry.spec
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal_achieved,
                                    attempts_made=row.attempts, policy=spec.retry,
                                    ended_at=now)
    participant_id: int = row.participant_id
    status, next_attempt_at, skip_reason = decision.status, None, None
    if row.participant_status == P.COMPLETED:
        # An earlier attempt's late result completed it while this one was
        # already placed (reconcile_late_result): it stays completed.
        status = P.COMPLETED
    elif decision.status == P.RETRY_SCHEDULED and row.campaign_status == st.CampaignStatus.STOPPED:
        status = P.CANCELED
    elif decision.status == P.RETRY_SCHEDULED:
        assert decision.not_before is not None
        # Retries also wait for the calendar: the first opening after the delay.
        zones, guard = zones_for(spec, row.phone, row.timezone)
        next_attempt_at = entry.rules.next_opening(decision.not_before, zones, guard)
        if decision.held_by != "retry_delay":
            record_skip(session, row.campaign_id, participant_id, at=now, reason="cooldown",
                        detail=f"{decision.held_by} until {decision.not_before.isoformat()}")
        if next_attempt_at is None:
            status, skip_reason = P.SKIPPED, "calendar_closed"
    others_open = session.execute(_SET_PARTICIPANT, {
        "status": status, "next_attempt_at": next_attempt_at, "outcome": outcome,
        # A contact completed by an earlier attempt's late answer keeps that answer.
        "keep_outcome": row.participant_status == P.COMPLETED,
        "skip_reason": skip_reason, "now": now, "id": participant_id}).scalar_one()
    return status, bool(others_open)
