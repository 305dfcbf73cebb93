"""Organisations, their API keys, and the console sessions signed in with those keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models.tables import ApiKey, Call, Campaign, ConsoleSession, Organisation


def by_name(session: Session, name: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.name == name))


def by_id(session: Session, org_id: str) -> Organisation | None:
    return session.get(Organisation, org_id)


def all_orgs(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.created_at,
                                                              Organisation.name)))


def insert(session: Session, **columns: Any) -> Organisation:
    row = Organisation(**columns)
    session.add(row)
    session.flush()
    return row


def channel_cap(session: Session, org_id: str) -> int | None:
    """The stored cap (None: it follows DIALER_ORG_CHANNEL_CAP)."""
    cap: int | None = session.scalar(select(Organisation.channel_cap)
                                     .where(Organisation.id == org_id))
    return cap


def of_call(session: Session, call_id: str) -> Organisation | None:
    return session.scalar(select(Organisation)
                          .join(Campaign, Campaign.org_id == Organisation.id)
                          .join(Call, Call.campaign_id == Campaign.id)
                          .where(Call.id == call_id))


def insert_key(session: Session, **columns: Any) -> ApiKey:
    row = ApiKey(**columns)
    session.add(row)
    session.flush()
    return row


def key_by_prefix(session: Session, prefix: str) -> tuple[ApiKey, Organisation] | None:
    row = session.execute(select(ApiKey, Organisation)
                          .join(Organisation, Organisation.id == ApiKey.org_id)
                          .where(ApiKey.prefix == prefix)).first()
    return None if row is None else (row[0], row[1])


def key_by_id(session: Session, key_id: str) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def touch_key(session: Session, key_id: str, *, now: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def keys(session: Session, *, org_id: str | None) -> list[tuple[ApiKey, str]]:
    """Keys with their organisation's name, oldest first (of one organisation when given)."""
    query = (select(ApiKey, Organisation.name)
             .join(Organisation, Organisation.id == ApiKey.org_id)
             .order_by(ApiKey.created_at, ApiKey.id))
    if org_id is not None:
        query = query.where(ApiKey.org_id == org_id)
    return [(k, n) for k, n in session.execute(query)]


def count_keys(session: Session, org_id: str) -> int:
    return session.scalar(select(func.count()).where(ApiKey.org_id == org_id,
                                                     ApiKey.revoked_at.is_(None))) or 0


def insert_console_session(session: Session, **columns: Any) -> ConsoleSession:
    row = ConsoleSession(**columns)
    session.add(row)
    session.flush()
    return row


def console_session(session: Session, token_hash: str
                    ) -> tuple[ConsoleSession, ApiKey, Organisation] | None:
    """The session with this token hash, its key and the key's organisation."""
    row = session.execute(select(ConsoleSession, ApiKey, Organisation)
                          .join(ApiKey, ApiKey.id == ConsoleSession.api_key_id)
                          .join(Organisation, Organisation.id == ApiKey.org_id)
                          .where(ConsoleSession.token_hash == token_hash)).first()
    return None if row is None else (row[0], row[1], row[2])


def end_console_session(session: Session, token_hash: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))


def drop_console_sessions_of_key(session: Session, api_key_id: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.api_key_id == api_key_id))


def drop_expired_console_sessions(session: Session, api_key_id: str, *,
                                   now: datetime) -> None:
    """A key's expired sessions: kept no longer than its next sign-in."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.api_key_id == api_key_id,
                                                 ConsoleSession.expires_at <= now))
