"""Campaigns a page at a time, and the counts a campaign's summary shows besides its view.

Paged and counted in SQL, so a page costs the same however many campaigns there are.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from dialer.statuses import ParticipantStatus
from dialer.store.sql import contains
from models.tables import Audience, Call, Campaign, Event, Participant


def page(session: Session, *, org_id: str, status: str | None, search: str | None,
         sort_by: str, descending: bool, skip: int, take: int
         ) -> tuple[list[Campaign], int, int]:
    """One page of the organisation's live campaigns (``search``: the name contains it),
    how many match, and how many live campaigns it has in all."""
    live = [Campaign.org_id == org_id, Campaign.deleted_at.is_(None)]
    where = list(live)
    if status is not None:
        where.append(Campaign.status == status)
    if search:
        where.append(Campaign.name.ilike(contains(search)))
    column = getattr(Campaign, sort_by)
    rows = list(session.scalars(select(Campaign).where(*where).order_by(
        column.desc() if descending else column.asc(), Campaign.id).offset(skip).limit(take)))
    matching = int(session.scalar(select(func.count()).select_from(Campaign).where(*where)) or 0)
    total = int(session.scalar(select(func.count()).select_from(Campaign).where(*live)) or 0)
    return rows, matching, total


def participant_totals(session: Session, *, org_id: str, ids: list[str]
                       ) -> tuple[dict[str, int], dict[str, int]]:
    """Per campaign of the organisation: its participants, and those a stop canceled."""
    campaigns = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.id.in_(ids))
    everyone = dict(session.execute(
        select(Participant.campaign_id, func.count()).where(
            Participant.campaign_id.in_(campaigns)).group_by(Participant.campaign_id)).all())
    canceled = dict(session.execute(
        select(Participant.campaign_id, func.count()).where(
            Participant.campaign_id.in_(campaigns),
            Participant.status == ParticipantStatus.CANCELED).group_by(Participant.campaign_id)
    ).all())
    return everyone, canceled


def retries_placed(session: Session, *, org_id: str, ids: list[str]) -> dict[str, int]:
    """Per campaign of the organisation: calls placed after a contact's first attempt."""
    campaigns = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.id.in_(ids))
    return dict(session.execute(
        select(Call.campaign_id, func.count()).where(
            Call.campaign_id.in_(campaigns), Call.attempt > 1, Call.placed_at.is_not(None))
        .group_by(Call.campaign_id)).all())


def last_pause_and_failure(session: Session, *, org_id: str, ids: list[str]
                           ) -> dict[tuple[str, str], tuple[datetime, str | None]]:
    """(campaign id, ``paused`` or ``failed``) → the instant and detail of its last such
    event."""
    campaigns = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.id.in_(ids))
    last: dict[tuple[str, str], tuple[datetime, str | None]] = {}
    for campaign_id, action, at, detail in session.execute(
            select(Event.campaign_id, Event.action, Event.at, Event.detail)
            .where(Event.campaign_id.in_(campaigns), Event.action.in_(("paused", "failed")))
            .order_by(Event.id)):
        last[(campaign_id, action)] = (at, detail)
    return last


def audience_names(session: Session, *, org_id: str, ids: list[str]) -> dict[str, str]:
    """Campaign id → the name of its audience."""
    campaigns = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.id.in_(ids))
    return dict(session.execute(
        select(Campaign.id, Audience.name).join(Audience, Audience.id == Campaign.audience_id)
        .where(Campaign.id.in_(campaigns))).all())


def live_by_audience(session: Session, *, org_id: str) -> list[Campaign]:
    """The organisation's live (not deleted) campaigns that have an audience, oldest
    first."""
    return list(session.scalars(select(Campaign).where(
        Campaign.org_id == org_id, Campaign.audience_id.is_not(None),
        Campaign.deleted_at.is_(None)).order_by(Campaign.created_at, Campaign.id)))


def status_counts(session: Session, *, org_id: str) -> dict[str, int]:
    """Status → how many of the organisation's live campaigns have it (one GROUP BY)."""
    return {str(status): int(n) for status, n in session.execute(
        select(Campaign.status, func.count()).where(
            Campaign.org_id == org_id, Campaign.deleted_at.is_(None))
        .group_by(Campaign.status))}


def contacts_called(session: Session, *, org_id: str, ids: list[str]) -> dict[str, int]:
    """Per campaign of the organisation: contacts with a call placed (as ``Metrics``
    counts ``contacts_called``), for all the campaigns of a page in one query.

    Participants are counted, not contacts: a campaign has one participant a contact
    (``uq_participants_campaign_contact``), so the number is the same, and
    ``participant_id`` is in ``ix_calls_campaign_placed``: an index-only scan, where
    ``contact_id`` read every call's heap row (EXPLAIN, 54,000 calls: 922 buffers
    instead of 3,815). It still reads every placed call of the page's campaigns."""
    campaigns = select(Campaign.id).where(Campaign.org_id == org_id, Campaign.id.in_(ids))
    return dict(session.execute(
        select(Call.campaign_id, func.count(distinct(Call.participant_id))).where(
            Call.campaign_id.in_(campaigns), Call.placed_at.is_not(None))
        .group_by(Call.campaign_id)).all())
