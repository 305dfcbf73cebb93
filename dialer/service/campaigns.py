"""Creating campaigns and moving them through their lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from dialer import lifecycle
from dialer import statuses as st
from dialer.errors import InvalidTransition, ValidationError
from dialer.ids import is_uuid
from dialer.service.events import record_event
from dialer.service.steps.campaign_state import (
    close_execution,
    load_campaign,
    open_execution,
    return_queued_calls,
    transition,
    withdraw,
)
from dialer.spec import CampaignSpec, parse_campaign_spec
from dialer.statuses import ParticipantStatus as P
from models.tables import Audience, Call, Campaign, PhoneNumber


def create_campaign(
    session: Session, raw_spec: CampaignSpec | dict[str, Any], *, now: datetime, source: str,
) -> Campaign:
    # Shape and references are checked together, so one refusal names every bad
    # field (README: "all at once"), not the shape first and the ids on a second try.
    errors: list[tuple[str, str]] = []
    spec: CampaignSpec | None = None
    try:
        spec = parse_campaign_spec(raw_spec, now=now)
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
    elif "audience_id" not in shape_errors and (
            not is_uuid(audience_id) or session.get(Audience, audience_id) is None):
        errors.append(("audience_id", f"no audience {audience_id}"))
    if isinstance(number_ids, list) and "phone_number_ids" not in shape_errors:
        for index, number_id in enumerate(number_ids):
            if f"phone_number_ids[{index}]" in shape_errors:
                continue
            if not is_uuid(number_id) or session.get(PhoneNumber, number_id) is None:
                errors.append((f"phone_number_ids[{index}]", f"no phone number {number_id}"))
    if errors:
        raise ValidationError(errors)
    assert spec is not None
    status = st.CampaignStatus.SCHEDULED if spec.scheduled_at else st.CampaignStatus.DRAFT
    campaign = Campaign(
        id=str(uuid.uuid4()), name=spec.name, description=spec.description,
        agent_id=spec.agent_id, audience_id=spec.audience_id,
        phone_number_ids=list(spec.phone_number_ids), spec=spec.model_dump(mode="json"),
        status=status, pause_reason=None, scheduled_at=spec.scheduled_at,
        timezone=spec.timezone, priority=spec.priority, external_id=spec.external_id,
        channels=spec.pacing.channels, breaker_open=False, caller_id_cursor=0,
        created_at=now, updated_at=now,
    )
    session.add(campaign)
    session.flush()
    # The audience is snapshotted: contacts added later do not join this campaign.
    session.execute(text("""
        INSERT INTO participants (campaign_id, contact_id, phone, status, attempts, next_attempt_at)
        SELECT :campaign_id, id, phone, 'pending', 0, :now FROM contacts
        WHERE audience_id = :audience_id ORDER BY id
    """), {"campaign_id": campaign.id, "audience_id": spec.audience_id, "now": now})
    record_event(session, campaign.id, at=now, action="created", source=source,
                 detail=f"audience {spec.audience_id}")
    if status == st.CampaignStatus.SCHEDULED:
        record_event(session, campaign.id, at=now, action="scheduled", source=source,
                     detail=f"starts at {spec.scheduled_at.isoformat()}")
    return campaign


def start(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    transition(campaign, "start", now)
    campaign.pause_reason = None
    open_execution(session, campaign, now)
    record_event(session, campaign.id, at=now, action="started", source=source)
    return campaign


def pause(session: Session, campaign_id: str, *, now: datetime, source: str,
          reason: str | None = None) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    transition(campaign, "pause", now)
    campaign.pause_reason = reason or "manual"
    close_execution(session, campaign, now, st.CampaignStatus.PAUSED)
    return_queued_calls(session, campaign.id, now)
    record_event(session, campaign.id, at=now, action="paused", source=source,
                 detail=campaign.pause_reason)
    return campaign


def resume(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status == st.CampaignStatus.PAUSED and campaign.breaker_open:
        raise InvalidTransition("the circuit breaker is open; reset_breaker first")
    transition(campaign, "resume", now)
    campaign.pause_reason = None
    open_execution(session, campaign, now)
    record_event(session, campaign.id, at=now, action="resumed", source=source)
    return campaign


def stop(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    transition(campaign, "stop", now)
    close_execution(session, campaign, now, st.CampaignStatus.STOPPED)
    canceled = withdraw(session, campaign.id, (P.PENDING, P.RETRY_SCHEDULED, P.QUEUED),
                         now=now)
    record_event(session, campaign.id, at=now, action="stopped", source=source,
                 detail=f"{canceled} pending contacts canceled")
    return campaign


def allocate_channels(session: Session, campaign_id: str, channels: Any, *, now: datetime,
                      source: str, org_cap: int) -> Campaign:
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 0:
        raise ValidationError([("channels", "must be an integer >= 0")])
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status in st.CAMPAIGN_TERMINAL:
        raise InvalidTransition(f"cannot allocate channels to a campaign that is {campaign.status}")
    granted = min(channels, org_cap)
    before = campaign.channels
    campaign.channels = granted
    campaign.updated_at = now
    detail = f"{before} -> {granted}"
    if granted < channels:
        detail += f" (asked {channels}, capped by the organisation cap {org_cap})"
    record_event(session, campaign.id, at=now, action="channels_allocated", source=source,
                 detail=detail)
    return campaign


def reset_breaker(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    if not campaign.breaker_open:
        raise InvalidTransition("the circuit breaker is not tripped")
    campaign.breaker_open = False
    campaign.updated_at = now
    record_event(session, campaign.id, at=now, action="breaker_reset", source=source,
                 detail="campaign stays paused until resumed")
    return campaign


def delete_campaign(session: Session, campaign_id: str, *, now: datetime, source: str) -> None:
    campaign = load_campaign(session, campaign_id, lock=True)
    lifecycle.check_deletable(campaign.status)
    if campaign.status in (st.CampaignStatus.PAUSED, st.CampaignStatus.SCHEDULED,
                           st.CampaignStatus.DRAFT):
        session.execute(delete(Call).where(Call.campaign_id == campaign.id,
                                           Call.status == st.CallStatus.QUEUED))
    # Soft delete: the rows stay as an audit trail, the id stops resolving.
    campaign.deleted_at = now
    campaign.updated_at = now
    record_event(session, campaign.id, at=now, action="deleted", source=source)
