"""Giving back a call that was queued or claimed but never placed.

The dial does it for every "not now" (campaign not running, contact closed,
lease or pacing refused, frequency cap), the sweep for a claim whose worker
died. The attempt is not counted: the contact waits again, or ends for good.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dialer.retry import after_unusable_number
from dialer.service.steps import campaign_state
from dialer.store import calls, participants


def put_back(session: Session, call_id: str, participant_id: int, *,
             next_attempt_at: datetime, now: datetime) -> None:
    """Undo a queued attempt that was never placed: the contact waits again."""
    if calls.delete_unplaced(session, call_id):
        campaign_state.restore_after_putback(session, [participant_id],
                                             next_attempt_at=next_attempt_at, now=now)


def drop(session: Session, call_id: str, participant_id: int, *, status: str,
         reason: str | None, now: datetime) -> None:
    """The contact may never be called (DNC, recently completed): end it."""
    if calls.delete_unplaced(session, call_id):
        participants.end_unplaced(session, participant_id, status=status, reason=reason,
                                  now=now)


def drop_number(session: Session, call_id: str, participant_id: int, *, status: str,
                reason: str, now: datetime) -> int | None:
    """The number may never be called (DNC): the contact passes to its next number (the
    index returned), due at once, or ends with ``status`` when it has none left."""
    if not calls.delete_unplaced(session, call_id):
        return None
    index, secondary = participants.numbers_of(session, participant_id)
    following = after_unusable_number(phone_index=index, numbers=1 + len(secondary))
    if following is None:
        participants.end_unplaced(session, participant_id, status=status, reason=reason,
                                  now=now)
        return None
    participants.move_unplaced_to_number(
        session, participant_id, phone=secondary[following - 1], phone_index=following,
        reason=reason, next_attempt_at=now, now=now)
    return following
