"""Participants on the dispatch path: picked when due, settled after a call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, TextClause, and_, select, text
from sqlalchemy.orm import Session

from dialer.statuses import PARTICIPANT_DUE, PARTICIPANT_OPEN
from dialer.statuses import ParticipantStatus as P
from dialer.store.sql import run_core, sql_in
from models.tables import Contact, Participant


def due_by(alias: str) -> str:
    """The one definition of "due" (by ``:due_by``): waiting for the tick, and its
    ``next_attempt_at`` reached.

    Spelled from the enum group with ``sql_in``, not bound: the partial index
    ``ix_participants_waiting`` has ``WHERE status IN ('pending', 'retry_scheduled')``,
    and only the same literal predicate lets the planner use it in every plan.
    """
    return (f"{alias}.status IN {sql_in(PARTICIPANT_DUE)} "
            f"AND {alias}.next_attempt_at <= :due_by")


def is_due(now: datetime) -> ColumnElement[bool]:
    """``due_by`` for ORM queries (counts for readiness and metrics, which need no
    partial index): the same group, the same comparison."""
    return and_(Participant.status.in_(PARTICIPANT_DUE), Participant.next_attempt_at <= now)


def lock_due(session: Session, campaign_id: str, *, due_by_at: datetime,
             limit: int) -> list[tuple[Participant, str | None, list[str], bool]]:
    """(participant, contact timezone, contact's secondary numbers, contact removed) of the
    campaign's participants due by ``due_by_at``, soonest first, locked (``SKIP LOCKED``:
    another tick has them)."""
    rows = session.execute(
        select(Participant, Contact.timezone, Contact.secondary_phones,
               Contact.removed_at.is_not(None))
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.campaign_id == campaign_id,
               text(due_by("participants")).bindparams(due_by=due_by_at))
        .order_by(Participant.next_attempt_at, Participant.id)
        .limit(limit)
        .with_for_update(of=Participant, skip_locked=True)).all()
    return [(participant, timezone, list(secondary or []), removed)
            for participant, timezone, secondary, removed in rows]


def _settle_sql(assignments: str) -> TextClause:
    """Update participant ``:id``, and say whether any *other* participant of its
    campaign is still open (the update is not visible to the rest of its own
    statement, hence the CTE)."""
    return text(f"""
        WITH settled AS (
            UPDATE participants SET {assignments} WHERE id = :id RETURNING campaign_id)
        SELECT EXISTS (
            SELECT 1 FROM participants o JOIN settled s ON o.campaign_id = s.campaign_id
            WHERE o.id <> :id AND o.status = ANY(:open))
    """)


# The number dialed next (:phone, :phone_index) is the one the retry rule chose: the
# same one, or the next secondary (its attempts then start at 0). The right-hand sides
# read the row as it was, so ``answered_phone`` gets the number this call went to.
_SETTLE = _settle_sql("""
    status = :status, next_attempt_at = :next_attempt_at,
    last_outcome = CASE WHEN :keep_outcome THEN last_outcome ELSE :outcome END,
    answered_phone = CASE WHEN :answered THEN phone ELSE answered_phone END,
    phone = :phone, phone_index = :phone_index,
    phone_attempts = CASE WHEN phone_index = :phone_index THEN phone_attempts ELSE 0 END,
    skip_reason = COALESCE(:skip_reason, skip_reason), updated_at = :now""")

_COMPLETE = _settle_sql("""
    status = :completed, next_attempt_at = NULL, last_outcome = :outcome,
    answered_phone = COALESCE(:answered_phone, answered_phone),
    attempts = attempts - :uncounted,
    phone_attempts = GREATEST(phone_attempts - :uncounted, 0), updated_at = :now""")

_LOCK = text("SELECT cycle FROM participants WHERE id = :id FOR UPDATE")

_END_UNPLACED = text("""
    UPDATE participants SET status = :status, attempts = attempts - 1,
        phone_attempts = GREATEST(phone_attempts - 1, 0),
        skip_reason = :reason, next_attempt_at = NULL, updated_at = :now
    WHERE id = :id
""")

_OPEN_WORDS = list(PARTICIPANT_OPEN)



def settle(session: Session, participant_id: int, *, status: str,
           next_attempt_at: datetime | None, outcome: str, keep_outcome: bool,
           skip_reason: str | None, answered: bool, phone: str, phone_index: int,
           now: datetime) -> bool:
    """Write the contact's next step after a call (``answered``: this call's number is
    the one that answered; ``phone``/``phone_index``: the number dialed next); whether
    others of its campaign are open."""
    return bool(run_core(session, _SETTLE, {
        "id": participant_id, "status": status, "next_attempt_at": next_attempt_at,
        "outcome": outcome, "keep_outcome": keep_outcome, "skip_reason": skip_reason,
        "answered": answered, "phone": phone, "phone_index": phone_index,
        "now": now, "open": _OPEN_WORDS}).scalar_one())


def complete(session: Session, participant_id: int, *, outcome: str, uncounted: int,
             answered_phone: str | None, now: datetime) -> bool:
    """Complete the contact (``answered_phone`` answered), ``uncounted`` attempts given
    back; whether others are open."""
    return bool(run_core(session, _COMPLETE, {
        "id": participant_id, "outcome": outcome, "uncounted": uncounted, "now": now,
        "answered_phone": answered_phone, "completed": P.COMPLETED,
        "open": _OPEN_WORDS}).scalar_one())


def lock(session: Session, participant_id: int) -> int:
    """Lock the participant; its cycle as last committed (a requeue moves it on)."""
    return int(run_core(session, _LOCK, {"id": participant_id}).scalar_one())


def end_unplaced(session: Session, participant_id: int, *, status: str, reason: str | None,
                 now: datetime) -> None:
    """End a contact whose queued attempt was never placed (that attempt not counted)."""
    run_core(session, _END_UNPLACED, {"id": participant_id, "status": status, "reason": reason,
                                  "now": now})


_NUMBERS = text("""
    SELECT p.phone_index, ct.secondary_phones FROM participants p
    JOIN contacts ct ON ct.id = p.contact_id WHERE p.id = :id
""")

# Only a contact still waiting for this attempt's put-back (its call was just deleted).
_MOVE_TO_NUMBER = text("""
    UPDATE participants SET phone = :phone, phone_index = :phone_index, phone_attempts = 0,
        attempts = attempts - 1,
        status = CASE WHEN attempts - 1 = 0 THEN :pending ELSE :retry_scheduled END,
        skip_reason = :reason, next_attempt_at = :next_attempt_at, updated_at = :now
    WHERE id = :id
""")


def numbers_of(session: Session, participant_id: int) -> tuple[int, list[str]]:
    """(the index of the number dialed now, the contact's secondary numbers)."""
    index, secondary = run_core(session, _NUMBERS, {"id": participant_id}).one()
    return int(index), list(secondary or [])


def move_unplaced_to_number(session: Session, participant_id: int, *, phone: str,
                            phone_index: int, reason: str, next_attempt_at: datetime,
                            now: datetime) -> None:
    """A contact whose queued attempt was never placed because its number may not be
    dialed: that attempt not counted, the contact waits again on its number
    ``phone_index``."""
    run_core(session, _MOVE_TO_NUMBER, {
        "id": participant_id, "phone": phone, "phone_index": phone_index, "reason": reason,
        "next_attempt_at": next_attempt_at, "now": now, "pending": P.PENDING,
        "retry_scheduled": P.RETRY_SCHEDULED})
