"""The SQL of steering leads while campaigns live (service/steps/leads.py): contacts added
to or removed from an audience, participants requeued or closed by hand.

Lock order, the same everywhere: the audience's row (store/audiences.py
``lock_for_change``: a campaign being created on it holds it shared), the campaigns' rows
(by id), then calls (queued ones
only, skipping those a dial is claiming), then participants. The dial holds a call it
claims and then waits for its participant; taking a claimed call after a participant
would deadlock with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dialer.statuses import (
    CALL_IN_FLIGHT,
    PARTICIPANT_DUE,
    PARTICIPANT_OPEN,
    CallStatus,
    ParticipantStatus,
)
from dialer.store import executions
from dialer.store.audiences import CONTACT_CHUNK, chunks
from dialer.store.sql import run_core
from models.tables import Campaign, Contact

# Why a participant was taken out by hand: ``skip_reason`` of a canceled participant whose
# contact left the audience, and of a participant closed by an operator.
REMOVED = "removed"
CLOSED = "closed"

# Campaigns whose participants can still change: new contacts join them, removed ones leave.
ENROLLING = ("draft", "scheduled", "running", "paused")


def lock_enrolling_campaigns(session: Session, audience_id: str) -> list[str]:
    """Ids of the campaigns (not deleted, not finished) that use the audience, locked in
    id order: a tick dispatching one of them finishes first, and a tick or a completion
    that comes later sees what this transaction wrote."""
    return list(session.scalars(
        select(Campaign.id).where(Campaign.audience_id == audience_id,
                                  Campaign.deleted_at.is_(None),
                                  Campaign.status.in_(ENROLLING))
        .order_by(Campaign.id).with_for_update()))


# -- contacts -------------------------------------------------------------------------------


def held_phones(session: Session, audience_id: str, phones: list[str]
                ) -> dict[str, tuple[int, bool]]:
    """phone -> (contact id, removed) for the audience's contacts with these phones, locked."""
    found: dict[str, tuple[int, bool]] = {}
    for chunk in chunks(phones, CONTACT_CHUNK):
        for row in session.execute(
                select(Contact.phone, Contact.id, Contact.removed_at)
                .where(Contact.audience_id == audience_id, Contact.phone.in_(chunk))
                .with_for_update()):
            found[row.phone] = (row.id, row.removed_at is not None)
    return found


def insert_contacts(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new contacts (column dicts); phone -> id of those inserted. A phone another
    transaction added meanwhile is left out (the audience holds it once)."""
    inserted: dict[str, int] = {}
    for chunk in chunks(rows, CONTACT_CHUNK):
        result = session.execute(
            pg_insert(Contact).values(chunk)
            .on_conflict_do_nothing(constraint="uq_contacts_audience_phone")
            .returning(Contact.phone, Contact.id))
        inserted.update({row.phone: row.id for row in result})
    return inserted


def readd_contact(session: Session, contact_id: int, row: dict[str, Any]) -> None:
    """A removed contact back in its audience, with the data it was added again with."""
    session.execute(update(Contact).where(Contact.id == contact_id).values(
        removed_at=None, name=row["name"], timezone=row["timezone"],
        attributes=row["attributes"], secondary_phones=row["secondary_phones"]))


def current_members(session: Session, audience_id: str, contact_ids: list[int]) -> set[int]:
    """Which of ``contact_ids`` are the audience's contacts and not removed."""
    found: set[int] = set()
    for chunk in chunks(contact_ids, CONTACT_CHUNK):
        found.update(session.scalars(
            select(Contact.id).where(Contact.audience_id == audience_id, Contact.id.in_(chunk),
                                     Contact.removed_at.is_(None))))
    return found


def mark_removed(session: Session, audience_id: str, contact_ids: list[int], *,
                 now: datetime) -> list[int]:
    """Soft-remove the audience's contacts among ``contact_ids``; the ids that were in it."""
    return list(session.scalars(
        update(Contact).where(Contact.audience_id == audience_id, Contact.id.in_(contact_ids),
                              Contact.removed_at.is_(None))
        .values(removed_at=now).returning(Contact.id)))


# -- participants ---------------------------------------------------------------------------

_ENROL = text("""
    INSERT INTO participants (campaign_id, contact_id, phone, status, attempts, next_attempt_at,
                              updated_at)
    SELECT :campaign_id, c.id, c.phone, :pending, 0, :at, :now FROM contacts c
    WHERE c.removed_at IS NULL
      AND (c.id = ANY(CAST(:contact_ids AS bigint[]))
           OR (c.audience_id = :audience_id AND c.id > :after_id))
    ORDER BY c.id
    ON CONFLICT ON CONSTRAINT uq_participants_campaign_contact DO NOTHING
    RETURNING id
""")

# A fresh start: a cycle of its own, so the calls it gets are unique by (participant,
# cycle, attempt) with attempts from 1 again, and a late result of a call before it (the
# sweep's timeout reconciled, results.py) does not settle it.
# Back on the contact's primary number (secondary numbers follow it again), as a new
# cycle of a recurring campaign starts (campaign_members.start_new_cycle).
_FRESH_START = """
    status = :pending, attempts = 0, phone_index = 0, phone_attempts = 0,
    phone = (SELECT c.phone FROM contacts c WHERE c.id = participants.contact_id),
    answered_phone = NULL,
    cycle = cycle + 1, next_attempt_at = :at, skip_reason = NULL, updated_at = :now
"""

_REMOVED_PARTICIPANTS = text("""
    SELECT id FROM participants
    WHERE campaign_id = :campaign_id AND contact_id = ANY(CAST(:contact_ids AS bigint[]))
      AND status = :canceled AND skip_reason = :removed
""")

_REOPEN = text(f"""
    UPDATE participants SET {_FRESH_START} WHERE id = ANY(CAST(:ids AS bigint[]))
""")

# Participants starting afresh (a new cycle) that the open run has not counted among its
# members yet (done before it started: it counted the open ones), or counted and processed
# already (a call of their current cycle ended in it): they are its members once more.
# Those it counted and did not process yet (still open, or closed or canceled during it
# before their call) are counted already. A run counts the
# participants of a cycle processed once each (store/analytics.py, store/reads.py), so
# its progress stays within 100%.
_COUNTED_AGAIN = text("""
    SELECT count(*) FROM participants p
    JOIN executions e ON e.campaign_id = p.campaign_id AND e.ended_at IS NULL
    WHERE p.id = ANY(CAST(:ids AS bigint[]))
      AND ((p.status <> ALL(:open) AND p.updated_at < e.started_at) OR EXISTS (
          SELECT 1 FROM calls k
          WHERE k.participant_id = p.id AND k.cycle = p.cycle
            AND k.execution_number = e.execution_number AND k.status = :ended))
""")


def _start_afresh(session: Session, campaign_id: str, participant_ids: list[int], *,
                  at: datetime, now: datetime) -> None:
    """Participants of one campaign (locked by the caller) start a new cycle, pending and
    due ``at``; the open run counts those it must process again."""
    if not participant_ids:
        return
    again = run_core(session, _COUNTED_AGAIN, {
        "ids": participant_ids, "ended": CallStatus.ENDED,
        "open": list(PARTICIPANT_OPEN)}).scalar_one()
    run_core(session, _REOPEN, {"ids": participant_ids, "at": at, "now": now,
                                "pending": ParticipantStatus.PENDING})
    executions.grow_open(session, campaign_id, int(again))


def enrol_contacts(session: Session, campaign_id: str, contact_ids: list[int], *,
                   at: datetime, now: datetime, audience_id: str | None = None,
                   after_id: int | None = None) -> int:
    """Contacts (``contact_ids``, and with ``audience_id`` those of that audience numbered
    after ``after_id``: a CSV import's new rows) that are not the campaign's participants
    join it, pending and due ``at``; participants canceled because their contact was removed
    start afresh. How many joined or came back. Concurrent enrolments insert each once."""
    params = {"campaign_id": campaign_id, "contact_ids": contact_ids, "at": at, "now": now,
              "audience_id": audience_id, "after_id": after_id,
              "pending": ParticipantStatus.PENDING, "canceled": ParticipantStatus.CANCELED,
              "removed": REMOVED}
    joined = len(run_core(session, _ENROL, params).all())
    executions.grow_open(session, campaign_id, joined)
    back = list(run_core(session, _REMOVED_PARTICIPANTS, params).scalars())
    _start_afresh(session, campaign_id, back, at=at, now=now)
    return joined + len(back)


_DELETE_UNCLAIMED = text("""
    DELETE FROM calls WHERE id IN (
        SELECT id FROM calls WHERE campaign_id = ANY(CAST(:campaign_ids AS varchar[]))
            AND contact_id = ANY(CAST(:contact_ids AS bigint[])) AND status = :queued
        FOR UPDATE SKIP LOCKED)
    RETURNING participant_id
""")


def delete_unclaimed_calls(session: Session, campaign_ids: Sequence[str],
                           contact_ids: list[int]) -> list[int]:
    """Delete the queued calls of these contacts that no dial is claiming (a claimed one is
    skipped: it is about to be placed); the participants they were for."""
    return list(run_core(session, _DELETE_UNCLAIMED, {
        "campaign_ids": list(campaign_ids), "contact_ids": contact_ids,
        "queued": CallStatus.QUEUED}).scalars())


_CANCEL_REMOVED = text("""
    UPDATE participants SET status = :canceled, skip_reason = :removed,
        next_attempt_at = NULL, updated_at = :now,
        -- the attempt of a queued call deleted unplaced does not count
        attempts = attempts - CASE WHEN id = ANY(CAST(:unqueued AS bigint[])) THEN 1 ELSE 0 END
    WHERE campaign_id = ANY(CAST(:campaign_ids AS varchar[]))
      AND contact_id = ANY(CAST(:contact_ids AS bigint[]))
      AND (status = ANY(:due) OR id = ANY(CAST(:unqueued AS bigint[])))
    RETURNING campaign_id
""")


def cancel_removed(session: Session, campaign_ids: Sequence[str], contact_ids: list[int], *,
                   unqueued: list[int], now: datetime) -> dict[str, int]:
    """Cancel the participants of removed contacts that wait for a call (or whose queued
    call was just deleted, ``unqueued``); campaign id -> how many."""
    counts: dict[str, int] = {}
    for campaign_id in run_core(session, _CANCEL_REMOVED, {
            "campaign_ids": list(campaign_ids), "contact_ids": contact_ids,
            "unqueued": unqueued, "due": list(PARTICIPANT_DUE), "now": now,
            "canceled": ParticipantStatus.CANCELED, "removed": REMOVED}).scalars():
        counts[campaign_id] = counts.get(campaign_id, 0) + 1
    return counts


_LOCK_PARTICIPANTS = text("""
    SELECT p.id, p.contact_id, p.status, c.removed_at IS NOT NULL AS removed
    FROM participants p JOIN contacts c ON c.id = p.contact_id
    WHERE p.campaign_id = :campaign_id AND p.contact_id = ANY(CAST(:contact_ids AS bigint[]))
    ORDER BY p.id FOR UPDATE OF p
""")


def lock_participants(session: Session, campaign_id: str, contact_ids: list[int]
                      ) -> list[Any]:
    """(id, contact_id, status, removed) of the campaign's participants for these contacts,
    locked."""
    return list(run_core(session, _LOCK_PARTICIPANTS, {
        "campaign_id": campaign_id, "contact_ids": contact_ids}))


_IN_FLIGHT = text("""
    SELECT DISTINCT contact_id FROM calls
    WHERE campaign_id = :campaign_id AND contact_id = ANY(CAST(:contact_ids AS bigint[]))
      AND status = ANY(:in_flight)
    ORDER BY contact_id
""")


def contacts_in_flight(session: Session, campaign_id: str, contact_ids: list[int]) -> list[int]:
    """The contacts among these with a call of the campaign queued, dialing or placed."""
    return list(run_core(session, _IN_FLIGHT, {
        "campaign_id": campaign_id, "contact_ids": contact_ids,
        "in_flight": list(CALL_IN_FLIGHT)}).scalars())


_CLOSE = text("""
    UPDATE participants SET status = :completed, skip_reason = :closed,
        next_attempt_at = NULL, updated_at = :now,
        attempts = attempts - CASE WHEN id = ANY(CAST(:unqueued AS bigint[])) THEN 1 ELSE 0 END
    WHERE id = ANY(CAST(:ids AS bigint[]))
""")


def requeue(session: Session, campaign_id: str, participant_ids: list[int], *,
            now: datetime) -> None:
    """The campaign's participants back to pending, attempts from zero, due at once."""
    _start_afresh(session, campaign_id, participant_ids, at=now, now=now)


def close(session: Session, participant_ids: list[int], *, unqueued: list[int],
          now: datetime) -> None:
    """Participants completed by hand: never dialed again in their campaign (``unqueued``:
    those whose queued call was just deleted, its attempt uncounted)."""
    run_core(session, _CLOSE, {"ids": participant_ids, "now": now, "closed": CLOSED,
                               "unqueued": unqueued,
                               "completed": ParticipantStatus.COMPLETED})
