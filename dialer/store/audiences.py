"""Audiences and their contacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exists as sql_exists
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dialer.store.sql import contains
from models.tables import Audience, Campaign, Contact

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


def lock_for_change(session: Session, audience_id: str) -> None:
    """Hold the audience's row while its contacts change (added, removed) and they join or
    leave its campaigns: a campaign being created on it (or a draft moving to it) holds
    the row shared and enrols the audience, so one of the two waits for the other and the
    later one sees what the first committed. Taken before any campaign's row."""
    session.execute(select(Audience.id).where(Audience.id == audience_id)
                    .with_for_update(key_share=True))


def lock_shared(session: Session, audience_id: str) -> None:
    """Hold the audience's row shared while a campaign enrols its contacts (see
    ``lock_for_change``): an addition committed before is seen, one after sees the
    campaign. Many creations on one audience do not wait for each other."""
    session.execute(select(Audience.id).where(Audience.id == audience_id)
                    .with_for_update(read=True))


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


# -- one audience and its members (every read scoped by the organisation first) ------------


def find(session: Session, audience_id: str, *, org_id: str) -> Audience | None:
    """The audience when it is this organisation's; None for another's or an unknown id."""
    return session.scalar(select(Audience).where(
        Audience.id == audience_id, Audience.org_id == org_id))


def _members(audience_id: str) -> Any:
    """The audience's contacts that were not removed: what every member read shows."""
    return select(Contact).where(Contact.audience_id == audience_id, Contact.removed_at.is_(None))


def member_count(session: Session, audience_id: str, *, query: str | None = None) -> int:
    statement = _matching(_members(audience_id), query).subquery()
    return int(session.scalar(select(func.count()).select_from(statement)) or 0)


def members_page(session: Session, audience_id: str, *, skip: int, take: int,
                 query: str | None = None) -> list[Contact]:
    return list(session.scalars(_matching(_members(audience_id), query)
                                .order_by(Contact.id).offset(skip).limit(take)))


# The member fields a search can name besides the contact's attributes.
SEARCH_COLUMNS = {"phoneNumber": Contact.phone, "phone": Contact.phone, "name": Contact.name,
                  "timezone": Contact.timezone}


def search_members(session: Session, audience_id: str, *, query: str | None,
                   fields: dict[str, str], limit: int) -> list[Contact]:
    """Members whose data contains ``query`` anywhere (case-insensitive), or whose every
    named field (a column of SEARCH_COLUMNS, else an attribute) contains its term."""
    statement = _matching(_members(audience_id), query)
    for field, term in fields.items():
        column = SEARCH_COLUMNS.get(field)
        target = column if column is not None else Contact.attributes[field].astext
        statement = statement.where(target.ilike(contains(term)))
    return list(session.scalars(statement.order_by(Contact.id).limit(limit)))


def _matching(statement: Any, query: str | None) -> Any:
    """Members whose phone, name, time zone or an attribute value contains ``query``."""
    if query is None:
        return statement
    pattern = contains(query)
    # The attribute values, not their keys: jsonb_each_text lists them.
    values = func.jsonb_each_text(Contact.attributes).table_valued("key", "value")
    return statement.where(or_(
        Contact.phone.ilike(pattern), Contact.name.ilike(pattern),
        Contact.timezone.ilike(pattern),
        sql_exists().select_from(values).where(values.c.value.ilike(pattern))))


def used_by_live_campaign(session: Session, audience_id: str) -> bool:
    """A campaign not deleted uses the audience."""
    return session.scalar(select(Campaign.id).where(
        Campaign.audience_id == audience_id, Campaign.deleted_at.is_(None)).limit(1)) is not None


def delete(session: Session, audience: Audience) -> None:
    session.delete(audience)
    session.flush()
