"""Creating a campaign from the client. The creation itself is
steps/campaign_creation.py (remote control creates campaigns too); the lifecycle
commands are service/commands.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dialer.errors import ValidationError
from dialer.service.steps.campaign_creation import create_campaign as create
from dialer.service.steps.campaign_views import campaign_view
from dialer.spec import CampaignSpec
from dialer.store import campaigns
from dialer.views import CampaignView

EXTERNAL_ID_TAKEN = "uq_campaigns_org_external_id"


def create_campaign(session: Session, raw_spec: CampaignSpec | dict[str, Any], *,
                    org_id: str, now: datetime, source: str) -> CampaignView:
    """A repeated ``external_id`` is a ValidationError on that field (remote control,
    which is idempotent on it, answers with the existing campaign instead)."""
    external_id = (raw_spec.external_id if isinstance(raw_spec, CampaignSpec)
                   else raw_spec.get("external_id") if isinstance(raw_spec, dict) else None)
    if isinstance(external_id, str) and external_id and campaigns.id_for_key(
            session, org_id=org_id, external_id=external_id) is not None:
        raise ValidationError([("external_id", "a campaign with this external_id exists")])
    try:
        return campaign_view(session, create(session, raw_spec, org_id=org_id, now=now,
                                             source=source))
    except IntegrityError as exc:  # a concurrent creation with the same external_id
        if EXTERNAL_ID_TAKEN not in str(exc.orig):
            raise
        raise ValidationError([("external_id", "a campaign with this external_id exists")]
                              ) from None
