"""What the Atoms surface reads or changes that DialerClient has no method for yet.

Every function takes the caller's Session and its organisation's id, and
reaches only that organisation's rows: another's audience is as unknown as a
missing one (NotFound, HTTP 404). These belong in the service layer and the
store (docs/atoms.md, "Service methods"); they live here until they move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from dialer.api.atoms.mapping import CampaignFacts
from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.service.steps.campaign_views import campaign_view
from dialer.statuses import ParticipantStatus
from dialer.views import CampaignView
from models.tables import Audience, Call, Campaign, Contact, DncEntry, Event, Participant


@dataclass(frozen=True)
class AudienceRow:
    id: str
    name: str
    created_at: datetime
    members: int


@dataclass(frozen=True)
class MemberRow:
    id: int
    phone: str
    name: str | None
    timezone: str | None
    attributes: dict[str, Any]


# -- campaigns --------------------------------------------------------------------


def campaign_page(session: Session, org_id: str, *, status: str | None, search: str | None,
                  sort_by: str, descending: bool, skip: int, take: int
                  ) -> tuple[list[CampaignView], int, int]:
    """One page of the organisation's live campaigns, the filtered total and the total
    of all: paged in SQL, so a page costs the same however many campaigns there are."""
    live = [Campaign.org_id == org_id, Campaign.deleted_at.is_(None)]
    where = list(live)
    if status is not None:
        where.append(Campaign.status == status)
    if search:
        where.append(Campaign.name.ilike(_like(search)))
    column = getattr(Campaign, sort_by)
    rows = session.scalars(select(Campaign).where(*where).order_by(
        column.desc() if descending else column.asc(), Campaign.id).offset(skip).limit(take))
    views = [campaign_view(session, c) for c in rows]
    total = int(session.scalar(select(func.count()).select_from(Campaign).where(*where)) or 0)
    everything = int(session.scalar(select(func.count()).select_from(Campaign).where(*live))
                     or 0)
    return views, total, everything



def campaign_facts(session: Session, org_id: str, ids: list[str]) -> dict[str, CampaignFacts]:
    """Per campaign: participants, retries made, contacts a stop canceled, when it last
    paused or failed (and why), and its audience's name."""
    if not ids:
        return {}
    campaigns = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.id.in_(ids))
    participants = dict(session.execute(
        select(Participant.campaign_id, func.count()).where(
            Participant.campaign_id.in_(campaigns)).group_by(Participant.campaign_id)).all())
    cancelled = dict(session.execute(
        select(Participant.campaign_id, func.count()).where(
            Participant.campaign_id.in_(campaigns),
            Participant.status == ParticipantStatus.CANCELED).group_by(Participant.campaign_id)
    ).all())
    retries = dict(session.execute(
        select(Call.campaign_id, func.count()).where(
            Call.campaign_id.in_(campaigns), Call.attempt > 1, Call.placed_at.is_not(None))
        .group_by(Call.campaign_id)).all())
    last: dict[tuple[str, str], tuple[datetime, str | None]] = {}
    for campaign_id, action, at, detail in session.execute(
            select(Event.campaign_id, Event.action, Event.at, Event.detail)
            .where(Event.campaign_id.in_(campaigns), Event.action.in_(("paused", "failed")))
            .order_by(Event.id)):
        last[(campaign_id, action)] = (at, detail)
    audiences = dict(session.execute(
        select(Campaign.id, Audience.name).join(Audience, Audience.id == Campaign.audience_id)
        .where(Campaign.id.in_(campaigns))).all())
    out = {}
    for campaign_id in ids:
        paused = last.get((campaign_id, "paused"))
        failed = last.get((campaign_id, "failed"))
        out[campaign_id] = CampaignFacts(
            participants=int(participants.get(campaign_id, 0)),
            retry_attempts=int(retries.get(campaign_id, 0)),
            cancelled=int(cancelled.get(campaign_id, 0)),
            paused_at=paused[0] if paused else None,
            failed_at=failed[0] if failed else None, error=failed[1] if failed else None,
            audience_name=audiences.get(campaign_id))
    return out


# -- audiences ----------------------------------------------------------------------


def _audience(session: Session, org_id: str, audience_id: str) -> Audience:
    row = session.scalar(select(Audience).where(
        Audience.id == audience_id, Audience.org_id == org_id)) if is_uuid(audience_id) else None
    if row is None:
        raise NotFound(f"audience {audience_id} not found")
    return row


def _member_count(session: Session, audience_id: str) -> int:
    return int(session.scalar(select(func.count()).where(Contact.audience_id == audience_id))
               or 0)


def audience(session: Session, org_id: str, audience_id: str) -> AudienceRow:
    row = _audience(session, org_id, audience_id)
    return AudienceRow(row.id, row.name, row.created_at, _member_count(session, row.id))


def member_count(session: Session, org_id: str, audience_id: str) -> int:
    return _member_count(session, _audience(session, org_id, audience_id).id)


def audience_campaigns(session: Session, org_id: str) -> dict[str, list[Campaign]]:
    """The live (not deleted) campaigns of each audience."""
    out: dict[str, list[Campaign]] = {}
    for campaign in session.scalars(select(Campaign).where(
            Campaign.org_id == org_id, Campaign.audience_id.is_not(None),
            Campaign.deleted_at.is_(None)).order_by(Campaign.created_at, Campaign.id)):
        out.setdefault(str(campaign.audience_id), []).append(campaign)
    return out


def _refuse_if_used(session: Session, audience_id: str) -> None:
    """Deleting contacts would take a campaign's participants and call history with them
    (the foreign keys cascade): Atoms refuses too, with this message."""
    used = session.scalar(select(Campaign.id).where(
        Campaign.audience_id == audience_id, Campaign.deleted_at.is_(None)).limit(1))
    if used is not None:
        raise ValidationError([("", f"can't delete audience, campaign with this audience "
                                    f"{audience_id} exists")])


def delete_audience(session: Session, org_id: str, audience_id: str) -> None:
    row = _audience(session, org_id, audience_id)
    _refuse_if_used(session, row.id)
    session.delete(row)


def members_page(session: Session, org_id: str, audience_id: str, *, skip: int, take: int
                 ) -> tuple[list[MemberRow], int]:
    row = _audience(session, org_id, audience_id)
    contacts = session.scalars(select(Contact).where(Contact.audience_id == row.id)
                               .order_by(Contact.id).offset(skip).limit(take))
    return [_member(c) for c in contacts], _member_count(session, row.id)


def _member(contact: Contact) -> MemberRow:
    return MemberRow(contact.id, contact.phone, contact.name, contact.timezone,
                     dict(contact.attributes or {}))


def delete_members(session: Session, org_id: str, audience_id: str,
                   member_ids: list[str]) -> int:
    row = _audience(session, org_id, audience_id)
    ids = [int(m) for m in member_ids if str(m).isdigit()]
    if not ids:
        return 0
    _refuse_if_used(session, row.id)
    return len(session.execute(delete(Contact).where(
        Contact.audience_id == row.id, Contact.id.in_(ids)).returning(Contact.id)).all())


# The member fields a search can name besides the contact's attributes.
_COLUMNS = {"phoneNumber": Contact.phone, "phone": Contact.phone, "name": Contact.name,
            "timezone": Contact.timezone}


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_members(session: Session, org_id: str, audience_id: str, *,
                   query: str | None, fields: dict[str, str], limit: int) -> list[MemberRow]:
    """Members whose data contains ``query`` anywhere (case-insensitive), or whose every
    named field contains its term."""
    row = _audience(session, org_id, audience_id)
    statement = select(Contact).where(Contact.audience_id == row.id)
    if query is not None:
        pattern = _like(query)
        # The attribute values, not their keys: jsonb_each_text lists them.
        values = func.jsonb_each_text(Contact.attributes).table_valued("key", "value")
        statement = statement.where(or_(
            Contact.phone.ilike(pattern), Contact.name.ilike(pattern),
            Contact.timezone.ilike(pattern),
            exists().select_from(values).where(values.c.value.ilike(pattern))))
    for field, term in fields.items():
        column = _COLUMNS.get(field)
        target = column if column is not None else Contact.attributes[field].astext
        statement = statement.where(target.ilike(_like(term)))
    return [_member(c) for c in session.scalars(statement.order_by(Contact.id).limit(limit))]


# -- DNC ------------------------------------------------------------------------------


DNC_SORT = {"createdAt": DncEntry.added_at, "phoneNumber": DncEntry.phone}


def dnc_page(session: Session, org_id: str, *, search: str | None, sort_field: str,
             descending: bool, skip: int, take: int) -> tuple[list[DncEntry], int]:
    where = [DncEntry.org_id == org_id]
    if search:
        where.append(DncEntry.phone.ilike(_like(search)))
    column = DNC_SORT[sort_field]
    rows = list(session.scalars(select(DncEntry).where(*where).order_by(
        column.desc() if descending else column.asc(), DncEntry.phone).offset(skip).limit(take)))
    total = int(session.scalar(select(func.count()).select_from(DncEntry).where(*where)) or 0)
    return rows, total

