"""Executions: one run of a campaign, from start or resume to pause, stop or the end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dialer.statuses import CampaignStatus
from models.tables import Execution


def open_next(session: Session, campaign_id: str, *, now: datetime, total_members: int) -> None:
    number = (session.scalar(select(func.max(Execution.execution_number))
                             .where(Execution.campaign_id == campaign_id)) or 0) + 1
    session.add(Execution(campaign_id=campaign_id, execution_number=number,
                          status=CampaignStatus.RUNNING, started_at=now,
                          total_members=total_members))


def grow_open(session: Session, campaign_id: str, members: int) -> None:
    """Members who joined the open run (if any) after it started: contacts added while it
    runs, participants requeued (a new cycle, processed again)."""
    if members:
        session.execute(update(Execution).where(
            Execution.campaign_id == campaign_id, Execution.ended_at.is_(None)
        ).values(total_members=Execution.total_members + members))


def close_open(session: Session, campaign_id: str, *, now: datetime, status: str) -> None:
    session.execute(update(Execution).where(
        Execution.campaign_id == campaign_id, Execution.ended_at.is_(None)
    ).values(status=status, ended_at=now))


def current_number(session: Session, campaign_id: str) -> int:
    return session.scalar(select(func.max(Execution.execution_number))
                          .where(Execution.campaign_id == campaign_id)) or 1


def started_at(session: Session, campaign_id: str, execution_number: int) -> datetime | None:
    return session.scalar(select(func.min(Execution.started_at)).where(
        Execution.campaign_id == campaign_id, Execution.execution_number == execution_number))
