"""The do-not-call list: one per organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dialer.store.audiences import chunks
from dialer.store.sql import contains
from models.tables import DncEntry

# Numbers per statement: far below the 65,535 bind parameters of one statement
# (two per row), so a list of any size goes in chunks, in the caller's transaction.
DNC_CHUNK = 10_000


def add(session: Session, phones: list[str], *, org_id: str, now: datetime) -> int:
    """Add numbers not yet listed; how many were new."""
    added = 0
    for chunk in chunks(phones, DNC_CHUNK):
        added += len(session.execute(
            pg_insert(DncEntry).values([{"org_id": org_id, "phone": p, "added_at": now}
                                        for p in chunk])
            .on_conflict_do_nothing().returning(DncEntry.phone)).all())
    return added


def remove(session: Session, phones: list[str], *, org_id: str) -> int:
    removed = 0
    for chunk in chunks(phones, DNC_CHUNK):
        removed += len(session.execute(
            delete(DncEntry).where(DncEntry.org_id == org_id, DncEntry.phone.in_(chunk))
            .returning(DncEntry.phone)).all())
    return removed


def all_phones(session: Session, *, org_id: str) -> list[str]:
    return list(session.scalars(select(DncEntry.phone).where(DncEntry.org_id == org_id)
                                .order_by(DncEntry.phone)))


PAGE_SORT = {"added_at": DncEntry.added_at, "phone": DncEntry.phone}


def page(session: Session, *, org_id: str, search: str | None, sort_by: str,
         descending: bool, skip: int, take: int) -> tuple[list[DncEntry], int]:
    """One page of the organisation's entries (``search``: the number contains it) and
    how many match in all."""
    where = [DncEntry.org_id == org_id]
    if search:
        where.append(DncEntry.phone.ilike(contains(search)))
    column = PAGE_SORT[sort_by]
    rows = list(session.scalars(select(DncEntry).where(*where).order_by(
        column.desc() if descending else column.asc(), DncEntry.phone).offset(skip).limit(take)))
    total = int(session.scalar(select(func.count()).select_from(DncEntry).where(*where)) or 0)
    return rows, total
