"""A participant's and a call's row (store/call_log.py) as the views show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from dialer.views import CallView, ParticipantView


def participant_view(row: Row[Any]) -> ParticipantView:
    return ParticipantView(
        contact_id=row.contact_id, phone=row.phone, status=row.status, attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, last_outcome=row.last_outcome, name=row.name,
        phone_index=row.phone_index, phone_attempts=row.phone_attempts,
        answered_phone=row.answered_phone,
        last_attempt_at=row.last_attempt_at, skip_reason=row.skip_reason, cycle=row.cycle)


def call_view(row: Row[Any]) -> CallView:
    return CallView(
        call_id=row.id, contact_id=row.contact_id, phone=row.to_number,
        from_number=row.from_number, attempt=row.attempt, placed_at=row.placed_at,
        ended_at=row.ended_at, outcome=row.outcome, duration_s=row.duration_s,
        status=row.status, goal_achieved=row.goal_achieved, detail=row.detail,
        provider_call_id=row.provider_call_id,
        phone_index=None if row.phone_index is None else int(row.phone_index),
        cycle=row.cycle, execution_number=row.execution_number, queued_at=row.queued_at,
        recording_url=row.recording_url, transcript_url=row.transcript_url,
        cost=None if row.cost is None else float(row.cost))
