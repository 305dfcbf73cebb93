"""A campaign's activity after a position: its events, skips, placed and ended calls.

The rows of one campaign already known to be the caller's organisation's
(``campaign_status`` reads that first, in the same unit of work).

Positions: events and skips by their id, calls by ``placed_at`` / ``ended_at``. Neither
is commit order (a row with a smaller id or an earlier instant can commit after a
larger one), so a reader re-reads an overlap behind its position and drops what it
already has (``dialer.api.stream``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.statuses import PARTICIPANT_OPEN
from models.tables import Call, Campaign, Event, Participant, SkipRecord

BATCH = 500


def events_after(session: Session, campaign_id: str, after_id: int,
                 limit: int = BATCH) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Event.id, Event.at, Event.source, Event.action, Event.detail)
        .where(Event.campaign_id == campaign_id, Event.id > after_id)
        .order_by(Event.id).limit(limit))
    return [dict(row._mapping) for row in rows]


def skips_after(session: Session, campaign_id: str, after_id: int,
                limit: int = BATCH) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SkipRecord.id, SkipRecord.at, SkipRecord.reason, SkipRecord.detail,
               Participant.contact_id, Participant.phone)
        .join(Participant, Participant.id == SkipRecord.participant_id)
        .where(SkipRecord.campaign_id == campaign_id, SkipRecord.id > after_id)
        .order_by(SkipRecord.id).limit(limit))
    return [dict(row._mapping) for row in rows]


def calls_placed_since(session: Session, campaign_id: str, since: datetime | None,
                       limit: int = BATCH) -> list[dict[str, Any]]:
    query = (select(Call.id.label("call_id"), Call.contact_id, Call.to_number.label("phone"),
                    Call.from_number, Call.attempt, Call.placed_at.label("at"))
             .where(Call.campaign_id == campaign_id, Call.placed_at.is_not(None))
             .order_by(Call.placed_at, Call.id).limit(limit))
    if since is not None:
        query = query.where(Call.placed_at >= since)
    return [dict(row._mapping) for row in session.execute(query)]


def calls_ended_since(session: Session, campaign_id: str, since: datetime | None,
                      limit: int = BATCH) -> list[dict[str, Any]]:
    """Ended calls with what became of their contact: still open means a retry."""
    query = (select(Call.id.label("call_id"), Call.contact_id, Call.attempt, Call.outcome,
                    Call.duration_s, Call.goal_achieved, Call.ended_at.label("at"),
                    Participant.status.in_(PARTICIPANT_OPEN).label("retrying"),
                    Participant.next_attempt_at)
             .join(Participant, Participant.id == Call.participant_id)
             .where(Call.campaign_id == campaign_id, Call.ended_at.is_not(None),
                    Call.outcome.is_not(None))
             .order_by(Call.ended_at, Call.id).limit(limit))
    if since is not None:
        query = query.where(Call.ended_at >= since)
    return [dict(row._mapping) for row in session.execute(query)]


def campaign_status(session: Session, campaign_id: str, *, org_id: str
                    ) -> tuple[str, datetime | None] | None:
    """The campaign's status and when it was deleted; None when it is not ``org_id``'s."""
    row = session.execute(select(Campaign.status, Campaign.deleted_at).where(
        Campaign.id == campaign_id, Campaign.org_id == org_id)).one_or_none()
    return None if row is None else (row[0], row[1])
