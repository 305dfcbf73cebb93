"""A campaign as the client shows it: shared by the reads and the campaign commands."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dialer.store import reads
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
    return [ExecutionView(
        execution_number=e.execution_number, status=e.status, started_at=e.started_at,
        ended_at=e.ended_at, total_members=e.total_members, processed_members=int(n),
        failed_members=int(failed))
        for e, n, failed in reads.executions_with_progress(session, campaign_id)]
