"""Creating a campaign from the client. The creation itself is
steps/campaign_creation.py (remote control creates campaigns too); the lifecycle
commands are service/commands.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialer.service.steps.campaign_creation import create_campaign as create
from dialer.service.steps.campaign_views import campaign_view
from dialer.spec import CampaignSpec
from dialer.views import CampaignView


def create_campaign(session: Session, raw_spec: CampaignSpec | dict[str, Any], *,
                    org_id: str, now: datetime, source: str) -> CampaignView:
    return campaign_view(session, create(session, raw_spec, org_id=org_id, now=now,
                                         source=source))
