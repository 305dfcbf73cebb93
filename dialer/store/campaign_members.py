"""A campaign's participants and calls taken together: enrolment, withdrawal,
a new cycle, counts, and giving back attempts that were never placed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dialer.statuses import (
    CALL_HOLDING_CHANNEL,
    PARTICIPANT_OPEN,
    CallStatus,
    Outcome,
    ParticipantStatus,
)
from dialer.store.leads import CLOSED
from models.tables import Call, Contact, Participant


def enrol_audience(session: Session, campaign_id: str, audience_id: str, *,
                   now: datetime, at: datetime | None = None) -> None:
    """The audience's members (removed contacts left out) that are not yet participants
    join, pending and due ``at`` (default ``now``): at creation, and at each run of a
    recurring campaign. Contacts added in between join as they are added
    (steps/leads.py)."""
    session.execute(text("""
        INSERT INTO participants (campaign_id, contact_id, phone, status, attempts, next_attempt_at)
        SELECT :campaign_id, id, phone, :pending, 0, :at FROM contacts
        WHERE audience_id = :audience_id AND removed_at IS NULL ORDER BY id
        ON CONFLICT ON CONSTRAINT uq_participants_campaign_contact DO NOTHING
    """), {"campaign_id": campaign_id, "audience_id": audience_id, "at": at or now,
           "pending": ParticipantStatus.PENDING})


def delete_queued_calls(session: Session, campaign_id: str) -> list[int]:
    """Delete the campaign's calls that were queued but never claimed; their participants."""
    return list(session.scalars(
        delete(Call).where(Call.campaign_id == campaign_id, Call.status == CallStatus.QUEUED)
        .returning(Call.participant_id)))


def cancel_participants(session: Session, campaign_id: str, statuses: Iterable[str], *,
                        now: datetime) -> int:
    """Cancel the campaign's participants in ``statuses``; how many were."""
    return len(session.scalars(
        update(Participant)
        .where(Participant.campaign_id == campaign_id, Participant.status.in_(list(statuses)))
        .values(status=ParticipantStatus.CANCELED, next_attempt_at=None, updated_at=now)
        .returning(Participant.id)).all())


def fail_calls_holding_channel(session: Session, campaign_id: str, *, now: datetime,
                               detail: str) -> None:
    session.execute(update(Call).where(
        Call.campaign_id == campaign_id, Call.status.in_(CALL_HOLDING_CHANNEL))
        .values(status=CallStatus.ENDED, outcome=Outcome.FAILED, ended_at=now, detail=detail))


def has_open_participant(session: Session, campaign_id: str) -> bool:
    return session.scalar(select(Participant.id).where(
        Participant.campaign_id == campaign_id,
        Participant.status.in_(PARTICIPANT_OPEN)).limit(1)) is not None


def count_open_participants(session: Session, campaign_id: str) -> int:
    return session.scalar(select(func.count()).where(
        Participant.campaign_id == campaign_id,
        Participant.status.in_(PARTICIPANT_OPEN))) or 0


def participant_counts(session: Session, campaign_id: str) -> dict[str, int]:
    """Participants per status."""
    return {status: int(n) for status, n in session.execute(
        select(Participant.status, func.count()).where(Participant.campaign_id == campaign_id)
        .group_by(Participant.status))}


def start_new_cycle(session: Session, campaign_id: str, audience_id: str | None, *,
                    next_attempt_at: datetime, now: datetime) -> None:
    """The audience as it is now, in the next cycle (recurrence): every participant pending
    again with attempts at zero, back on its primary number (secondary numbers are dialed
    again after it), except those whose contact was removed (they stay canceled) or that an
    operator closed (never dialed again in this campaign); members not yet participants
    join."""
    still_member = ~select(Contact.id).where(Contact.id == Participant.contact_id,
                                             Contact.removed_at.is_not(None)).exists()
    primary = select(Contact.phone).where(Contact.id == Participant.contact_id).scalar_subquery()
    session.execute(
        update(Participant).where(Participant.campaign_id == campaign_id, still_member,
                                  Participant.skip_reason.is_distinct_from(CLOSED))
        .values(status=ParticipantStatus.PENDING, attempts=0, cycle=Participant.cycle + 1,
                phone=primary, phone_index=0, phone_attempts=0, answered_phone=None,
                next_attempt_at=next_attempt_at, skip_reason=None, updated_at=now))
    if audience_id is not None:
        enrol_audience(session, campaign_id, audience_id, now=now, at=next_attempt_at)


def restore_attempts(session: Session, participant_ids: list[int], *,
                     next_attempt_at: datetime, now: datetime) -> None:
    """Uncount the attempt of participants whose call was queued or claimed, never placed."""
    session.execute(text("""
        UPDATE participants SET attempts = attempts - 1,
            phone_attempts = GREATEST(phone_attempts - 1, 0),
            status = CASE WHEN attempts - 1 = 0 THEN :pending ELSE :retry_scheduled END,
            next_attempt_at = :at, updated_at = :now
        WHERE id = ANY(:ids) AND status = ANY(:in_call)
    """), {"ids": participant_ids, "at": next_attempt_at, "now": now,
           "pending": ParticipantStatus.PENDING,
           "retry_scheduled": ParticipantStatus.RETRY_SCHEDULED,
           "in_call": [ParticipantStatus.QUEUED, ParticipantStatus.DIALING]})
