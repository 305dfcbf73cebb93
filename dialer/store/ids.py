"""Ids by the prefix a person typed (service/id_prefix.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import Audience, Campaign, PhoneNumber

_TABLES: dict[str, type[Campaign] | type[Audience] | type[PhoneNumber]] = {
    "campaign": Campaign, "audience": Audience, "phone number": PhoneNumber}


def ids_starting(session: Session, kind: str, prefix: str, *, org_id: str,
                 limit: int) -> list[str]:
    """Ids of ``kind`` in the organisation (deleted campaigns and removed caller IDs
    left out) starting with ``prefix``, in order."""
    table = _TABLES[kind]
    query = select(table.id).where(table.id.startswith(prefix, autoescape=True),
                                   table.org_id == org_id)
    if table is Campaign:
        query = query.where(Campaign.deleted_at.is_(None))
    if table is PhoneNumber:
        query = query.where(PhoneNumber.removed_at.is_(None))
    return list(session.scalars(query.order_by(table.id).limit(limit)))
