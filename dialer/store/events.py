"""The campaign's event log and skip log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dialer.statuses import EventSource
from models.tables import Event, SkipRecord


def record_event(
    session: Session, campaign_id: str, *, at: datetime, action: str,
    source: str = EventSource.SYSTEM, detail: str | None = None,
) -> None:
    session.add(Event(campaign_id=campaign_id, at=at, source=source, action=action, detail=detail))


def record_skip(
    session: Session, campaign_id: str, participant_id: int, *, at: datetime, reason: str,
    detail: str | None = None,
) -> None:
    session.add(SkipRecord(campaign_id=campaign_id, participant_id=participant_id, at=at,
                           reason=reason, detail=detail))
