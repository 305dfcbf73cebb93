"""One audience: read it, its members a page at a time or searched, delete members or
the whole audience.

Another organisation's audience is NotFound, exactly like an unknown one. Deleting
contacts takes a campaign's participants and call history with them (the foreign keys
cascade), so nothing is deleted from an audience a live campaign uses.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.service.runtime import Runtime
from dialer.store import audiences
from dialer.views import AudienceMember, AudienceMembersPage, AudienceSummary, OrgRef
from models.tables import Audience, Contact

# A contact id as text: ASCII digits that fit a bigint.
_CONTACT_ID = re.compile(r"[0-9]{1,18}")

def audience(rt: Runtime, org: OrgRef, audience_id: str) -> AudienceSummary:
    with rt.unit_of_work() as session:
        row = _find(session, org, audience_id)
        return AudienceSummary(id=row.id, name=row.name, created_at=row.created_at,
                               count=audiences.member_count(session, row.id))


def members(rt: Runtime, org: OrgRef, audience_id: str, *, skip: int, take: int
            ) -> AudienceMembersPage:
    with rt.unit_of_work() as session:
        row = _find(session, org, audience_id)
        return AudienceMembersPage(
            members=[_member(c) for c in audiences.members_page(
                session, row.id, skip=skip, take=take)],
            total=audiences.member_count(session, row.id))


def search_members(rt: Runtime, org: OrgRef, audience_id: str, *, query: str | None,
                   fields: dict[str, str], limit: int) -> list[AudienceMember]:
    with rt.unit_of_work() as session:
        row = _find(session, org, audience_id)
        return [_member(c) for c in audiences.search_members(
            session, row.id, query=query, fields=fields, limit=limit)]


def remove_members(rt: Runtime, org: OrgRef, audience_id: str,
                   member_ids: list[str] | list[int]) -> int:
    """Members removed; ids that are not contact ids are ignored (a contact id is a
    bigint: ``"²"`` passes ``isdigit`` and twenty digits overflow it)."""
    with rt.transaction() as session:
        row = _find(session, org, audience_id)
        ids = [int(m) for m in member_ids if _CONTACT_ID.fullmatch(str(m))]
        if not ids:
            return 0
        _refuse_if_used(session, row.id)
        return audiences.delete_members(session, row.id, ids)


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
