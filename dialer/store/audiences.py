"""Audiences and their contacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from models.tables import Audience, Contact

# What the name column holds: checked before the insert, which would fail whole.
NAME_MAX_CHARS: int = Contact.__table__.c.name.type.length  # type: ignore[attr-defined]

# Rows per INSERT: one statement carries at most 65,535 bind parameters.
CONTACT_CHUNK = 5000

T = TypeVar("T")


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def exists(session: Session, audience_id: str, *, org_id: str) -> bool:
    """The audience exists in this organisation (another's is as good as unknown)."""
    return session.scalar(select(Audience.id).where(
        Audience.id == audience_id, Audience.org_id == org_id)) is not None


def ids_named(session: Session, name: str, *, org_id: str) -> list[str]:
    return list(session.scalars(select(Audience.id).where(
        Audience.name == name, Audience.org_id == org_id)
        .order_by(Audience.created_at, Audience.id)))


def insert(session: Session, *, audience_id: str, org_id: str, name: str,
           now: datetime) -> None:
    session.add(Audience(id=audience_id, org_id=org_id, name=name, created_at=now))
    session.flush()


def insert_contacts(session: Session, contacts: list[dict[str, Any]]) -> None:
    """Contacts given as column dicts (``audience_id`` included), in chunks."""
    for chunk in chunks(contacts, CONTACT_CHUNK):
        session.execute(pg_insert(Contact), chunk)


def last_contact_id(session: Session, audience_id: str) -> int | None:
    return session.scalar(select(func.max(Contact.id)).where(Contact.audience_id == audience_id))
