"""What an edit of a campaign (steps/campaign_editing.py) writes beyond its own row:
the participants of a new audience, contacts made due again under a new calendar."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dialer.statuses import ParticipantStatus
from models.tables import Execution, Participant


def has_run(session: Session, campaign_id: str) -> bool:
    """Whether the campaign was ever started (it has an execution)."""
    return session.scalar(select(Execution.id).where(Execution.campaign_id == campaign_id)
                          .limit(1)) is not None


def delete_participants(session: Session, campaign_id: str) -> int:
    """Every participant of a campaign that never ran (it has no calls); how many."""
    return len(session.scalars(delete(Participant).where(Participant.campaign_id == campaign_id)
                               .returning(Participant.id)).all())


def make_pending_due(session: Session, campaign_id: str, *, now: datetime) -> int:
    """Contacts never attempted in this cycle whose next attempt waits for a later
    instant (an opening of the old calendar, the old start) are due now: the tick reads
    each against the new calendar and moves it to its new opening. How many."""
    return len(session.scalars(
        update(Participant)
        .where(Participant.campaign_id == campaign_id,
               Participant.status == ParticipantStatus.PENDING,
               Participant.next_attempt_at > now)
        .values(next_attempt_at=now, updated_at=now)
        .returning(Participant.id)).all())
