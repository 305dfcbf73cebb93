"""Creating a campaign from a spec: shared by the client and remote control."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.errors import ValidationError
from dialer.ids import is_uuid
from dialer.spec import CampaignSpec, parse_campaign_spec
from dialer.store import audiences, campaigns, numbers
from dialer.store.campaign_members import enrol_audience
from dialer.store.events import record_event
from models.tables import Campaign

# The spec's fields that name other records of the organisation.
REFERENCES = frozenset({"audience_id", "phone_number_ids"})


def create_campaign(
    session: Session, raw_spec: CampaignSpec | dict[str, Any], *, org_id: str, now: datetime,
    source: str,
) -> Campaign:
    spec = checked_spec(session, raw_spec, org_id=org_id, now=now)
    audience_id = spec.audience_id
    assert audience_id is not None  # checked: required
    status = st.CampaignStatus.SCHEDULED if spec.scheduled_at else st.CampaignStatus.DRAFT
    # Held until commit: a contact added meanwhile is either read by enrol_audience (added
    # first) or added once this campaign is visible, and enrolled then (steps/leads.py).
    audiences.lock_shared(session, audience_id)
    campaign = campaigns.insert(
        session, id=str(uuid.uuid4()), org_id=org_id, name=spec.name, description=spec.description,
        agent_id=spec.agent_id, audience_id=spec.audience_id,
        phone_number_ids=list(spec.phone_number_ids), spec=spec.model_dump(mode="json"),
        status=status, pause_reason=None, scheduled_at=spec.scheduled_at,
        timezone=spec.timezone, priority=spec.priority, external_id=spec.external_id,
        breaker_open=False, caller_id_cursor=0, created_at=now, updated_at=now)
    # Contacts added later join too, while the campaign has not finished (steps/leads.py).
    enrol_audience(session, campaign.id, audience_id, now=now)
    record_event(session, campaign.id, at=now, action="created", source=source,
                 detail=f"audience {spec.audience_id}")
    if spec.scheduled_at is not None:
        record_event(session, campaign.id, at=now, action="scheduled", source=source,
                     detail=f"starts at {spec.scheduled_at.isoformat()}")
    return campaign


def checked_spec(session: Session, raw_spec: CampaignSpec | dict[str, Any], *,
                 org_id: str, now: datetime, check_schedule: bool = True,
                 references: frozenset[str] = REFERENCES,
                 more_errors: tuple[tuple[str, str], ...] = ()) -> CampaignSpec:
    """The parsed spec, or one ValidationError naming every bad field: shape and
    references are checked together (README: "all at once"), not the shape first and
    the ids on a second try. An edit passes the references it changes (an unchanged
    one was checked when it was set) and its own refusals (``more_errors``), so that
    they are named in the same error."""
    errors: list[tuple[str, str]] = list(more_errors)
    spec: CampaignSpec | None = None
    try:
        spec = parse_campaign_spec(raw_spec, now=now, check_schedule=check_schedule)
    except ValidationError as exc:
        errors.extend(exc.errors)
    shape_errors = {field for field, _ in errors}
    if spec is not None:
        audience_id: Any = spec.audience_id
        number_ids: Any = spec.phone_number_ids
    else:
        raw = raw_spec if isinstance(raw_spec, dict) else {}
        audience_id, number_ids = raw.get("audience_id"), raw.get("phone_number_ids")
    if audience_id is None:
        errors.append(("audience_id", "required"))
    elif "audience_id" in references and "audience_id" not in shape_errors and (
            not is_uuid(audience_id) or not audiences.exists(session, audience_id, org_id=org_id)):
        errors.append(("audience_id", f"no audience {audience_id}"))
    if isinstance(number_ids, list) and "phone_number_ids" in references \
            and "phone_number_ids" not in shape_errors:
        for index, number_id in enumerate(number_ids):
            if f"phone_number_ids[{index}]" in shape_errors:
                continue
            # Shared until commit: a removal of it waits, then sees this campaign.
            if not is_uuid(number_id) or numbers.get(session, number_id, org_id=org_id,
                                                     lock="share") is None:
                errors.append((f"phone_number_ids[{index}]", f"no phone number {number_id}"))
    if errors:
        raise ValidationError(errors)
    assert spec is not None
    return spec
