"""Caller IDs (phone_numbers). A removed one (``removed_at`` set) is kept for the
calls and campaigns that name it, and is left out of every read here but
``removed_row``: for the organisation it no longer exists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.statuses import CampaignStatus as C
from models.tables import Campaign, PhoneNumber

# The campaigns that may still dial, or dial again without an edit: a caller ID they
# list stays (docs/contract.md, remove_phone_number).
LIVE_STATUSES = (C.SCHEDULED, C.RUNNING, C.PAUSED)


def get(session: Session, number_id: str, *, org_id: str,
        lock: Literal["share", "update"] | None = None) -> PhoneNumber | None:
    """The organisation's caller ID, unless removed. ``lock="share"``: held until commit
    by a campaign that is made to list it, so that a removal waits for that campaign and
    then sees it; ``"update"``: the removal's own lock."""
    query = select(PhoneNumber).where(PhoneNumber.id == number_id, PhoneNumber.org_id == org_id,
                                      PhoneNumber.removed_at.is_(None))
    if lock is not None:
        query = query.with_for_update(read=lock == "share")
    return session.scalar(query)


def id_of(session: Session, e164: str, *, org_id: str) -> str | None:
    return session.scalar(select(PhoneNumber.id).where(
        PhoneNumber.number == e164, PhoneNumber.org_id == org_id,
        PhoneNumber.removed_at.is_(None)))


def insert(session: Session, *, number_id: str, org_id: str, e164: str, provider: str,
           cps: float | None, now: datetime) -> PhoneNumber:
    row = PhoneNumber(id=number_id, org_id=org_id, number=e164, provider=provider, cps=cps,
                      is_active=True, created_at=now)
    session.add(row)
    session.flush()
    return row


def removed_row(session: Session, e164: str, *, org_id: str) -> PhoneNumber | None:
    """The organisation's removed row of ``e164``, locked: what adding it again revives."""
    return session.scalar(select(PhoneNumber).where(
        PhoneNumber.number == e164, PhoneNumber.org_id == org_id,
        PhoneNumber.removed_at.is_not(None)).with_for_update())


def all_numbers(session: Session, *, org_id: str) -> list[PhoneNumber]:
    return list(session.scalars(select(PhoneNumber).where(
        PhoneNumber.org_id == org_id, PhoneNumber.removed_at.is_(None))
        .order_by(PhoneNumber.created_at, PhoneNumber.id)))


def count_active(session: Session, number_ids: Iterable[str], *, org_id: str) -> int:
    return session.scalar(select(func.count()).where(
        PhoneNumber.id.in_(list(number_ids)), PhoneNumber.org_id == org_id,
        PhoneNumber.is_active)) or 0


def live_campaigns_listing(session: Session, number_id: str, *,
                           org_id: str) -> list[tuple[str, str, str]]:
    """(id, name, status) of the organisation's scheduled, running or paused campaigns
    (not deleted) whose phone_number_ids hold ``number_id``, oldest first."""
    rows = session.execute(select(Campaign.id, Campaign.name, Campaign.status).where(
        Campaign.org_id == org_id, Campaign.deleted_at.is_(None),
        Campaign.status.in_([str(s) for s in LIVE_STATUSES]),
        Campaign.phone_number_ids.contains([number_id]))
        .order_by(Campaign.created_at, Campaign.id))
    return [(i, n, s) for i, n, s in rows]
