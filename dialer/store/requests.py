"""Remote requests: commands already applied (by task id) and requests refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from models.tables import AppliedCommand, RejectedRequest


def claim_command(session: Session, command_id: str, *, campaign_id: str, command: str,
                  now: datetime) -> bool:
    """Record ``command_id`` as applied; False when it already was (the key is taken)."""
    return session.execute(pg_insert(AppliedCommand).values(
        command_id=command_id, campaign_id=campaign_id, command=command, applied_at=now,
    ).on_conflict_do_nothing(index_elements=["command_id"]).returning(
        AppliedCommand.command_id)).first() is not None


def command_applied_at(session: Session, command_id: str) -> datetime | None:
    return session.scalar(select(AppliedCommand.applied_at).where(
        AppliedCommand.command_id == command_id))


def record_rejected(session: Session, *, org_id: str | None, at: datetime, task: str,
                    external_id: str | None, errors: list[list[str]], payload: dict[str, Any],
                    request_id: str | None) -> None:
    """Once per request id: a redelivered request is not recorded a second time.
    ``org_id`` None: the request named no organisation that exists."""
    session.execute(pg_insert(RejectedRequest).values(
        org_id=org_id, at=at, task=task, external_id=external_id, errors=errors,
        payload=payload,
        request_id=request_id,
    ).on_conflict_do_nothing(index_elements=["request_id"]))


def recent_rejected(session: Session, *, org_id: str, include_unowned: bool,
                    limit: int) -> list[RejectedRequest]:
    """The organisation's, newest first; ``include_unowned`` adds the requests whose
    organisation could not be told (malformed, or naming none that exists)."""
    owned = RejectedRequest.org_id == org_id
    if include_unowned:
        owned = owned | RejectedRequest.org_id.is_(None)
    return list(session.scalars(select(RejectedRequest).where(owned)
                                .order_by(RejectedRequest.id.desc()).limit(limit)))


def add_rejected(session: Session, *, org_id: str, at: datetime, task: str,
                 external_id: str | None, errors: list[list[str]], payload: dict[str, Any],
                 request_id: str | None) -> None:
    """In the caller's transaction, which a second row for the same request id fails."""
    session.add(RejectedRequest(org_id=org_id, at=at, task=task, external_id=external_id,
                                errors=errors, payload=payload, request_id=request_id))
