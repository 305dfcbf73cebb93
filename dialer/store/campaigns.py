"""Campaign rows: loading, locking, creating, the channel count, remote keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dialer.statuses import CampaignStatus
from models.tables import Campaign


def get(session: Session, campaign_id: str, *, lock: bool = False,
        org_id: str | None = None) -> Campaign | None:
    """A campaign that is not deleted; ``lock`` takes its row lock (FOR UPDATE).

    ``org_id``: only if it belongs to that organisation (what every caller acting for
    an organisation passes); None is the engine's own view, across organisations."""
    query = select(Campaign).where(Campaign.id == str(campaign_id), Campaign.deleted_at.is_(None))
    if org_id is not None:
        query = query.where(Campaign.org_id == org_id)
    if lock:
        # The row as committed when the lock was granted, even when the session read it
        # before (unlocked): a status checked after the lock must be the current one.
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def lock_running(session: Session, campaign_id: str, *, wait: bool = True) -> Campaign | None:
    """The running campaign's row FOR UPDATE; None when it is not running, or (unless
    ``wait``) when another transaction holds the row in any mode."""
    return session.scalar(select(Campaign).where(
        Campaign.id == campaign_id, Campaign.status == CampaignStatus.RUNNING)
        .with_for_update(skip_locked=not wait))


def lock_due_scheduled(session: Session, *, now: datetime) -> list[str]:
    """Ids of scheduled campaigns whose time has come and that have an agent, locked; a
    concurrent tick skips them."""
    return list(session.scalars(
        select(Campaign.id).where(Campaign.status == CampaignStatus.SCHEDULED,
                                  Campaign.scheduled_at <= now, Campaign.deleted_at.is_(None),
                                  # Without an agent it waits (lifecycle.check_agent):
                                  # readiness says why; setting one lets it start.
                                  Campaign.agent_id.is_not(None), Campaign.agent_id != "")
        .with_for_update(skip_locked=True)))


def insert(session: Session, **columns: Any) -> Campaign:
    campaign = Campaign(**columns)
    session.add(campaign)
    session.flush()
    return campaign


def set_channels(session: Session, campaign: Campaign, channels: int, *, now: datetime) -> None:
    """Write the channel count into the spec (its one source; the column follows it)."""
    session.flush()  # refresh() below reads the row back: nothing pending may be lost
    session.execute(text("""
        UPDATE campaigns
        SET spec = jsonb_set(spec, '{pacing,channels}', to_jsonb(CAST(:channels AS integer))),
            updated_at = :now
        WHERE id = :id
    """), {"channels": channels, "now": now, "id": campaign.id})
    session.refresh(campaign)


def id_for_key(session: Session, *, org_id: str, external_id: str | None = None,
               request_id: str | None = None) -> str | None:
    """The campaign a remote request created: by the sender's external_id (unique within
    the organisation), else its task id."""
    if external_id:
        return session.scalar(select(Campaign.id).where(Campaign.external_id == external_id,
                                                        Campaign.org_id == org_id))
    if request_id:
        # Task ids are the sender's to choose: another organisation's is not this one's.
        return session.scalar(select(Campaign.id).where(Campaign.request_id == request_id,
                                                        Campaign.org_id == org_id))
    return None
