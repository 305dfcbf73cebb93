"""Which organisation a caller acts for: shared by the client's use cases, remote
control and the API's authentication (service/orgs.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dialer.service.runtime import Runtime
from dialer.store import orgs
from dialer.views import OrgRef
from models.tables import DEFAULT_ORG_NAME, Organisation

__all__ = ["DEFAULT_ORG_NAME", "org_named", "org_ref"]


def org_ref(rt: Runtime, row: Organisation) -> OrgRef:
    return OrgRef(id=row.id, name=row.name, channel_cap=rt.org_cap(row.channel_cap))


def org_named(rt: Runtime, session: Session, name: str) -> OrgRef | None:
    row = orgs.by_name(session, str(name))
    return None if row is None else org_ref(rt, row)
