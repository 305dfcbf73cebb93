"""A campaign as the client shows it: shared by the reads and the campaign commands."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dialer.store import analytics
from dialer.views import CampaignView, ExecutionView
from models.tables import Campaign


def campaign_view(session: Session, campaign: Campaign) -> CampaignView:
    return CampaignView(
        id=campaign.id, name=campaign.name, description=campaign.description,
        status=campaign.status, pause_reason=campaign.pause_reason, agent_id=campaign.agent_id,
        audience_id=campaign.audience_id, phone_number_ids=list(campaign.phone_number_ids or []),
        scheduled_at=campaign.scheduled_at, timezone=campaign.timezone,
        priority=campaign.priority, external_id=campaign.external_id,
        channels=campaign.channels, breaker_open=campaign.breaker_open,
        created_at=campaign.created_at, updated_at=campaign.updated_at, spec=campaign.spec,
        executions=executions(session, campaign.id),
        error=campaign.error, failed_at=campaign.failed_at,
    )


def executions(session: Session, campaign_id: str) -> list[ExecutionView]:
    """The runs with their progress, counted by the one query the analytics use
    (``execution_summary``), so a run's numbers are the same wherever they show."""
    return [ExecutionView(
        execution_number=r.execution_number, status=r.status, started_at=r.started_at,
        ended_at=r.ended_at, total_members=r.total_members, processed_members=r.processed,
        failed_members=r.failed)
        for r in analytics.executions(session, campaign_id)]
