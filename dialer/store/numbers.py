"""Caller IDs (phone_numbers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables import PhoneNumber


def get(session: Session, number_id: str, *, org_id: str) -> PhoneNumber | None:
    return session.scalar(select(PhoneNumber).where(
        PhoneNumber.id == number_id, PhoneNumber.org_id == org_id))


def id_of(session: Session, e164: str, *, org_id: str) -> str | None:
    return session.scalar(select(PhoneNumber.id).where(
        PhoneNumber.number == e164, PhoneNumber.org_id == org_id))


def insert(session: Session, *, number_id: str, org_id: str, e164: str, provider: str,
           cps: float | None, now: datetime) -> PhoneNumber:
    row = PhoneNumber(id=number_id, org_id=org_id, number=e164, provider=provider, cps=cps,
                      is_active=True, created_at=now)
    session.add(row)
    session.flush()
    return row


def all_numbers(session: Session, *, org_id: str) -> list[PhoneNumber]:
    return list(session.scalars(select(PhoneNumber).where(PhoneNumber.org_id == org_id)
                                .order_by(PhoneNumber.created_at, PhoneNumber.id)))


def count_active(session: Session, number_ids: Iterable[str], *, org_id: str) -> int:
    return session.scalar(select(func.count()).where(
        PhoneNumber.id.in_(list(number_ids)), PhoneNumber.org_id == org_id,
        PhoneNumber.is_active)) or 0
