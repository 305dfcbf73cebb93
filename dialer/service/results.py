"""A call's outcome: end the call, free its channel, decide the contact's next step.

Results may arrive twice, late, or for calls we never placed: the
conditional update on the call's status makes every replay a no-op. The
settling itself (shared with the sweep's deadline path) is
``steps/settle.py``; a result for a call the sweep already closed is
reconciled here. The channel freed is offered at once to the campaign's
next contact (``steps/planning.refill``) instead of waiting for the tick.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.errors import NotFound
from dialer.ids import is_uuid
from dialer.provider import NO_EXTRAS, ResultExtras
from dialer.retry import ends_contact
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import cached_spec
from dialer.service.steps import campaign_state, settle
from dialer.service.steps.settle import DEADLINE_DETAIL
from dialer.store import calls, orgs, participants
from dialer.store.events import record_event
from dialer.task_args import CallResultArgs, parse_call_result
from dialer.views import OrgRef

log = logging.getLogger(__name__)


def record_result(
    rt: Runtime, call_id: str, *, outcome: str, duration_s: float = 0.0,
    goal_achieved: bool | None = None, detail: str | None = None,
    extras: ResultExtras = NO_EXTRAS,
) -> str:
    """Returns ``recorded``, ``reconciled`` (late, see reconcile_late_result) or ``ignored``.

    ``extras`` (recording, transcript, cost) are written with the outcome, by the same
    conditional statement: a replay writes them no more than it writes the outcome."""
    now = rt.clock.now()
    if outcome not in st.OUTCOMES:
        log.warning("result for call %s has unknown outcome %r: ignored", call_id, outcome)
        return "ignored"
    call_id = str(call_id)
    with rt.unit_of_work() as session:
        ended = settle.end_call(rt, session, call_id, outcome=outcome, duration_s=duration_s,
                                goal_achieved=goal_achieved, detail=detail, now=now,
                                extras=extras)
        if ended is None:
            if reconcile_late_result(session, call_id, outcome=outcome, duration_s=duration_s,
                                     goal_achieved=goal_achieved, detail=detail, now=now,
                                     extras=extras):
                session.commit()
                return "reconciled"
            settle.release_if_ended(rt, session, call_id)
            log.info("result for unknown or finished call %s: ignored", call_id)
            return "ignored"
        session.commit()
    return settle.after_commit(rt, ended, now=now)


def record_org_result(
    rt: Runtime, org: OrgRef, call_id: str, *, outcome: Any, duration_s: Any = 0.0,
    goal_achieved: Any = None, detail: Any = None, recording_url: Any = None,
    transcript_url: Any = None, cost: Any = None,
) -> bool:
    """A result sent for an organisation (the HTTP webhook): its fields checked as the
    ``dialer.call_result`` task checks them, then ``record_result``. NotFound for a call
    of another organisation or none; False when nothing was applied (a replay)."""
    checked = parse_call_result([], {"call_id": call_id, "outcome": outcome,
                                     "duration_s": duration_s,
                                     "goal_achieved": goal_achieved, "detail": detail,
                                     "recording_url": recording_url,
                                     "transcript_url": transcript_url, "cost": cost})
    with rt.unit_of_work() as session:
        owner = orgs.of_call(session, checked.call_id) if is_uuid(checked.call_id) else None
    if owner is None or owner.id != org.id:
        raise NotFound(f"call {call_id} not found")
    return record_result(rt, checked.call_id, outcome=checked.outcome,
                         duration_s=checked.duration_s, goal_achieved=checked.goal_achieved,
                         detail=checked.detail, extras=extras_of(checked)) != "ignored"


def extras_of(checked: CallResultArgs) -> ResultExtras:
    """The optional extras of a checked ``dialer.call_result``."""
    return ResultExtras(recording_url=checked.recording_url,
                        transcript_url=checked.transcript_url, cost=checked.cost)


def call_of_other_org(rt: Runtime, call_id: str, org_name: str) -> bool:
    """A ``dialer.call_result`` that names an organisation the call does not belong to
    (such a result is ignored, as for an unknown call)."""
    with rt.unit_of_work() as session:
        owner = orgs.of_call(session, call_id) if is_uuid(call_id) else None
    return owner is not None and owner.name != org_name


def reconcile_late_result(session: Session, call_id: str, *, outcome: str, duration_s: float,
                          goal_achieved: bool | None, detail: str | None,
                          now: datetime, extras: ResultExtras = NO_EXTRAS) -> bool:
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
    row = calls.reconcile(session, call_id, outcome=outcome, timed_out=DEADLINE_DETAIL,
                          duration_s=max(0.0, float(duration_s or 0.0)),
                          goal_achieved=goal_achieved,
                          detail=(detail or None) and str(detail)[:2000], extras=extras)
    if row is None:
        return False
    spec = cached_spec(session, row.campaign_id, row.spec_digest).spec
    what = f"call {call_id} attempt {row.attempt}: {outcome} after its deadline (was failed)"
    if ends_contact(outcome, goal_achieved, spec.retry) and row.participant_cycle == row.cycle:
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
    # Its cycle read again under the lock: the one read with the call (unlocked) may be
    # stale, a requeue (the campaign's row lock, then the participant's) committing
    # meanwhile. A requeued contact is dialed again, whatever its earlier call brought.
    if participants.lock(session, row.participant_id) != row.cycle:
        return "; contact requeued since, left to be dialed again"
    canceled = calls.cancel_queued_retry(session, row.participant_id)
    in_flight = calls.in_flight_attempts(session, row.participant_id)
    others_open = participants.complete(session, row.participant_id, outcome=outcome,
                                        uncounted=len(canceled),
                                        answered_phone=(row.to_number
                                                        if outcome == st.Outcome.ANSWERED
                                                        else None),
                                        now=now)
    note = "; contact completed"
    if canceled:
        note += f"; queued retry canceled (attempt {', '.join(map(str, canceled))})"
    if in_flight:
        note += ("; attempt " + ", ".join(map(str, in_flight))
                 + " already placed, cannot be undone")
    # With a call of its own still in flight, that call's result (or the tick after it)
    # completes the campaign.
    if not others_open and not in_flight and row.campaign_status == st.CampaignStatus.RUNNING:
        campaign_state.complete_if_done(session, row.campaign_id, now=now, wait=False)
    return note
