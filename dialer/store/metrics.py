"""The exporter's four GROUP BY queries (service/metrics_export.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.statuses import CALL_HOLDING_CHANNEL, CAMPAIGN_TERMINAL
from dialer.store.participants import is_due
from models.tables import Call, Campaign, Organisation, Participant


def campaigns_shown(session: Session, *,
                    ended_since: datetime) -> list[tuple[str, str, str, str | None, int]]:
    """Live campaigns and those that ended since ``ended_since``: id, name, status,
    pause reason, channels."""
    return [(cid, name, status, reason, channels)
            for cid, name, status, reason, channels in session.execute(
                select(Campaign.id, Campaign.name, Campaign.status, Campaign.pause_reason,
                       Campaign.channels)
                .where(Campaign.deleted_at.is_(None),
                       Campaign.status.not_in(CAMPAIGN_TERMINAL)
                       | (Campaign.updated_at >= ended_since))
                .order_by(Campaign.created_at, Campaign.id))]


def outcomes(session: Session, campaign_ids: list[str]) -> dict[tuple[str, str], int]:
    """Finished calls per campaign and outcome (a call in progress has no outcome yet)."""
    if not campaign_ids:
        return {}
    return {(cid, str(outcome)): int(n) for cid, outcome, n in session.execute(
        select(Call.campaign_id, Call.outcome, func.count())
        .where(Call.campaign_id.in_(campaign_ids), Call.outcome.is_not(None))
        .group_by(Call.campaign_id, Call.outcome))}


def channels_in_use(session: Session) -> dict[str, int]:
    """Calls holding a channel per campaign, over every campaign (the organisation's
    total must be whole)."""
    return {cid: int(n) for cid, n in session.execute(
        select(Call.campaign_id, func.count())
        .where(Call.status.in_(CALL_HOLDING_CHANNEL)).group_by(Call.campaign_id))}


def channels_in_use_by_org(session: Session) -> dict[str, int]:
    """Calls holding a channel per organisation (by id)."""
    return {org_id: int(n) for org_id, n in session.execute(
        select(Campaign.org_id, func.count()).join(Call, Call.campaign_id == Campaign.id)
        .where(Call.status.in_(CALL_HOLDING_CHANNEL)).group_by(Campaign.org_id))}


def organisations(session: Session) -> list[tuple[str, str, int | None]]:
    """(id, name, stored channel cap) of every organisation, by name."""
    return [(i, n, c) for i, n, c in session.execute(
        select(Organisation.id, Organisation.name, Organisation.channel_cap)
        .order_by(Organisation.name))]


def due(session: Session, campaign_ids: list[str], *, now: datetime) -> dict[str, int]:
    """Participants due now per campaign (the readiness checklist's definition)."""
    if not campaign_ids:
        return {}
    return {cid: int(n) for cid, n in session.execute(
        select(Participant.campaign_id, func.count())
        .where(Participant.campaign_id.in_(campaign_ids),
               is_due(now))
        .group_by(Participant.campaign_id))}
