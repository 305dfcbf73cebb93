"""What the read models show: executions, counts, lists of a campaign's rows, and the
facts the readiness checklist and the forecast are computed from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, distinct, func, select
from sqlalchemy.orm import Session

from dialer.statuses import (
    CALL_HOLDING_CHANNEL,
    PARTICIPANT_OPEN,
    Outcome,
)
from dialer.store import call_log
from dialer.store.participants import is_due
from models.tables import (
    Audience,
    Call,
    Campaign,
    Contact,
    Event,
    Participant,
    SkipRecord,
)


def outcome_counts(session: Session, campaign_id: str) -> dict[str, int]:
    return {str(outcome): int(n) for outcome, n in session.execute(
        select(Call.outcome, func.count()).where(Call.campaign_id == campaign_id,
                                                 Call.outcome.is_not(None))
        .group_by(Call.outcome))}


def call_totals(session: Session, campaign_id: str) -> tuple[int, int, int, int]:
    """Contacts called, contacts connected, calls placed, calls holding a channel."""
    called, connected, placed, in_progress = session.execute(
        select(
            func.count(distinct(Call.contact_id)).filter(Call.placed_at.is_not(None)),
            func.count(distinct(Call.contact_id)).filter(Call.outcome == Outcome.ANSWERED),
            func.count().filter(Call.placed_at.is_not(None)),
            func.count().filter(Call.status.in_(CALL_HOLDING_CHANNEL)),
        ).where(Call.campaign_id == campaign_id)).one()
    return int(called), int(connected), int(placed), int(in_progress)


def campaigns(session: Session, *, org_id: str, status: str | None, sort_by: str,
              descending: bool) -> list[Campaign]:
    """The organisation's live campaigns, optionally of one status, ordered by the
    column ``sort_by``."""
    column = getattr(Campaign, sort_by)
    query = select(Campaign).where(Campaign.org_id == org_id,
                                   Campaign.deleted_at.is_(None)).order_by(
        column.desc() if descending else column.asc(), Campaign.id)
    if status is not None:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query))


# The two lists that grow with the audience read only the columns their views show, as
# rows: loading ORM entities cost about four times as much per row (3,000 participants:
# 85 ms against 15 ms of CPU), the largest part of these API requests (bench/api_load.py).
def participants(session: Session, campaign_id: str) -> list[Row[Any]]:
    return list(session.execute(call_log.participant_select(campaign_id)
                                .order_by(Participant.id)))


def calls(session: Session, campaign_id: str) -> list[Row[Any]]:
    return list(session.execute(call_log.call_select(campaign_id)
                                .order_by(*call_log.CALL_ORDER)))


def events(session: Session, campaign_id: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.campaign_id == campaign_id)
                                .order_by(Event.id)))


def skips(session: Session, campaign_id: str) -> list[tuple[SkipRecord, int, str]]:
    """Each skip with its participant's contact id and phone."""
    return [(skip, contact_id, phone) for skip, contact_id, phone in session.execute(
        select(SkipRecord, Participant.contact_id, Participant.phone)
        .join(Participant, Participant.id == SkipRecord.participant_id)
        .where(SkipRecord.campaign_id == campaign_id).order_by(SkipRecord.id))]


def audiences_with_counts(session: Session, *, org_id: str) -> list[tuple[Audience, int]]:
    """The organisation's audiences, newest first, with their number of contacts (removed
    ones not counted)."""
    counts = (select(Contact.audience_id, func.count().label("n"))
              .join(Audience, Audience.id == Contact.audience_id)
              .where(Audience.org_id == org_id, Contact.removed_at.is_(None))
              .group_by(Contact.audience_id).subquery())
    return [(audience, int(n)) for audience, n in session.execute(
        select(Audience, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.audience_id == Audience.id)
        .where(Audience.org_id == org_id)
        .order_by(Audience.created_at.desc(), Audience.id))]


# -- readiness -----------------------------------------------------------------------------

def waiting_and_due(session: Session, campaign_id: str, *, now: datetime) -> tuple[int, int]:
    """Open participants, and those of them due now (the tick's definition)."""
    waiting, due = session.execute(select(
        func.count(),
        func.count().filter(is_due(now)),
    ).where(Participant.campaign_id == campaign_id,
            Participant.status.in_(PARTICIPANT_OPEN))).one()
    return int(waiting), int(due)


def next_open_contacts(session: Session, campaign_id: str, *,
                       limit: int) -> list[tuple[str, str | None]]:
    """Phone and time zone of the open participants due first."""
    return [(phone, timezone) for phone, timezone in session.execute(
        select(Participant.phone, Contact.timezone)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.campaign_id == campaign_id, Participant.status.in_(PARTICIPANT_OPEN))
        .order_by(Participant.next_attempt_at.asc().nulls_first(), Participant.id)
        .limit(limit))]


# -- forecast ------------------------------------------------------------------------------

def open_contact_groups(session: Session,
                        campaign_id: str) -> list[tuple[str | None, str, int]]:
    """Open participants grouped by time zone and number prefix (+1 and the area code,
    which decides the zone, so a group shares its windows): (zone, a phone, count)."""
    prefix = func.left(Participant.phone, 5)
    return [(timezone, phone, int(count)) for timezone, _prefix, phone, count in session.execute(
        select(Contact.timezone, prefix, func.min(Participant.phone), func.count())
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.campaign_id == campaign_id, Participant.status.in_(PARTICIPANT_OPEN))
        .group_by(Contact.timezone, prefix))]


def ended_call_history(session: Session, campaign_id: str, *,
                       retrying: list[str]) -> tuple[float | None, int, int]:
    """Mean seconds of ended calls, how many ended, how many with an outcome in ``retrying``."""
    avg_s, ended, retried = session.execute(select(
        func.avg(func.extract("epoch", Call.ended_at - Call.placed_at)),
        func.count(),
        func.count().filter(Call.outcome.in_(retrying)),
    ).where(Call.campaign_id == campaign_id, Call.ended_at.is_not(None),
            Call.placed_at.is_not(None))).one()
    return (None if avg_s is None else float(avg_s)), int(ended), int(retried)


def audience_contact_groups(session: Session,
                            audience_id: str) -> list[tuple[str | None, str, int]]:
    """An audience's contacts (removed ones left out) grouped as open_contact_groups
    groups a campaign's participants: (zone, a phone, count)."""
    prefix = func.left(Contact.phone, 5)
    return [(timezone, phone, int(count)) for timezone, _prefix, phone, count in session.execute(
        select(Contact.timezone, prefix, func.min(Contact.phone), func.count())
        .where(Contact.audience_id == audience_id, Contact.removed_at.is_(None))
        .group_by(Contact.timezone, prefix))]
