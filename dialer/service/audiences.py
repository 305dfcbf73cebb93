"""One audience: read it, its members a page at a time or searched, add and remove
members (steps/leads.py: while its campaigns run too), delete the whole audience.

Another organisation's audience is NotFound, exactly like an unknown one. A removed member
is kept (its calls and events stay) and no longer shown. Deleting the audience would take
a campaign's participants and call history with it (the foreign keys cascade), so it is
refused while a live campaign uses it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.service.runtime import Runtime
from dialer.service.steps import leads
from dialer.store import audiences
from dialer.text import CONTAINS_NUL
from dialer.views import (
    AudienceMember,
    AudienceMembersPage,
    AudienceSummary,
    AudienceView,
    OrgRef,
)
from models.tables import Audience, Contact

# A contact id as text: ASCII digits that fit a bigint.
_CONTACT_ID = re.compile(r"[0-9]{1,18}")

def audience(rt: Runtime, org: OrgRef, audience_id: str) -> AudienceSummary:
    with rt.unit_of_work() as session:
        row = _find(session, org, audience_id)
        return AudienceSummary(id=row.id, name=row.name, created_at=row.created_at,
                               count=audiences.member_count(session, row.id))


def members(rt: Runtime, org: OrgRef, audience_id: str, *, skip: int, take: int,
            search: str | None = None) -> AudienceMembersPage:
    """A page of the members (those whose data contains ``search``), and how many match."""
    if search is not None and "\x00" in search:  # PostgreSQL text holds no NUL
        raise ValidationError([("search", CONTAINS_NUL)])
    with rt.unit_of_work() as session:
        row = _find(session, org, audience_id)
        return AudienceMembersPage(
            members=[_member(c) for c in audiences.members_page(
                session, row.id, skip=skip, take=take, query=search)],
            total=audiences.member_count(session, row.id, query=search))


def search_members(rt: Runtime, org: OrgRef, audience_id: str, *, query: str | None,
                   fields: dict[str, str], limit: int) -> list[AudienceMember]:
    with rt.unit_of_work() as session:
        row = _find(session, org, audience_id)
        return [_member(c) for c in audiences.search_members(
            session, row.id, query=query, fields=fields, limit=limit)]


def add_members(rt: Runtime, org: OrgRef, audience_id: str, contacts: Any, *,
                source: str) -> AudienceView:
    """Contacts added (checked like create_audience's, bad rows reported); they join the
    audience's campaigns that have not finished."""
    with rt.transaction() as session:
        row = _find(session, org, audience_id)
        return leads.add_contacts(session, row, contacts, now=rt.clock.now(), source=source,
                                  default_region=rt.settings.default_region)


def remove_members(rt: Runtime, org: OrgRef, audience_id: str,
                   member_ids: list[str] | list[int], *, source: str) -> int:
    """Members removed (kept stored, hidden, never dialed again); ids that are not contact
    ids, or not the audience's current members, are ignored (a contact id is a bigint:
    ``"²"`` passes ``isdigit`` and twenty digits overflow it)."""
    ids = [int(m) for m in member_ids if _CONTACT_ID.fullmatch(str(m))]
    with rt.transaction() as session:
        row = _find(session, org, audience_id)
        if not ids:
            return 0
        return leads.remove_contacts(session, row.id, ids, now=rt.clock.now(), source=source)


def delete(rt: Runtime, org: OrgRef, audience_id: str) -> None:
    with rt.transaction() as session:
        row = _find(session, org, audience_id)
        _refuse_if_used(session, row.id)
        audiences.delete(session, row)


def _find(session: Session, org: OrgRef, audience_id: str) -> Audience:
    row = (audiences.find(session, audience_id, org_id=org.id)
           if is_uuid(audience_id) else None)
    if row is None:
        raise NotFound(f"audience {audience_id} not found")
    return row


def _refuse_if_used(session: Session, audience_id: str) -> None:
    # Atoms refuses with this very message.
    if audiences.used_by_live_campaign(session, audience_id):
        raise ValidationError([("", f"can't delete audience, campaign with this audience "
                                    f"{audience_id} exists")])


def _member(contact: Contact) -> AudienceMember:
    return AudienceMember(id=contact.id, phone=contact.phone, name=contact.name,
                          timezone=contact.timezone, attributes=dict(contact.attributes or {}))
