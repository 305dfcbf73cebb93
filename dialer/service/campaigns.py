"""Creating campaigns and moving them through their lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dialer import lifecycle
from dialer import statuses as st
from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.recurrence import next_period_start
from dialer.service.connections import rowcount
from dialer.service.events import record_event
from dialer.spec import CampaignSpec, parse_campaign_spec
from dialer.statuses import PARTICIPANT_OPEN
from dialer.statuses import ParticipantStatus as P
from models.tables import Audience, Call, Campaign, Execution, Participant, PhoneNumber


def load_campaign(session: Session, campaign_id: str, *, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == str(campaign_id), Campaign.deleted_at.is_(None))
    if lock:
        query = query.with_for_update()
    campaign = session.scalar(query) if is_uuid(campaign_id) else None
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def campaign_spec(campaign: Campaign) -> CampaignSpec:
    spec = CampaignSpec.model_validate(campaign.spec)
    # Channels are re-allocated at run time; the column is the truth.
    return spec.model_copy(update={"pacing": spec.pacing.model_copy(
        update={"channels": campaign.channels})})


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
    _transition(campaign, "start", now)
    campaign.pause_reason = None
    _open_execution(session, campaign, now)
    record_event(session, campaign.id, at=now, action="started", source=source)
    return campaign


def start_due_scheduled(session: Session, *, now: datetime) -> list[str]:
    """Start every scheduled campaign whose time has come (conditional, so two ticks agree)."""
    ids = session.scalars(
        select(Campaign.id).where(Campaign.status == st.CampaignStatus.SCHEDULED,
                                  Campaign.scheduled_at <= now, Campaign.deleted_at.is_(None))
        .with_for_update(skip_locked=True)
    ).all()
    for campaign_id in ids:
        campaign = load_campaign(session, campaign_id)
        _transition(campaign, "start", now)
        _open_execution(session, campaign, now)
        record_event(session, campaign.id, at=now, action="started", source="system",
                     detail="scheduled start")
    return list(ids)


def pause(session: Session, campaign_id: str, *, now: datetime, source: str,
          reason: str | None = None) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    _transition(campaign, "pause", now)
    campaign.pause_reason = reason or "manual"
    _close_execution(session, campaign, now, st.CampaignStatus.PAUSED)
    _return_queued_calls(session, campaign.id, now)
    record_event(session, campaign.id, at=now, action="paused", source=source,
                 detail=campaign.pause_reason)
    return campaign


def resume(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status == st.CampaignStatus.PAUSED and campaign.breaker_open:
        raise InvalidTransition("the circuit breaker is open; reset_breaker first")
    _transition(campaign, "resume", now)
    campaign.pause_reason = None
    _open_execution(session, campaign, now)
    record_event(session, campaign.id, at=now, action="resumed", source=source)
    return campaign


def stop(session: Session, campaign_id: str, *, now: datetime, source: str) -> Campaign:
    campaign = load_campaign(session, campaign_id, lock=True)
    _transition(campaign, "stop", now)
    _close_execution(session, campaign, now, st.CampaignStatus.STOPPED)
    canceled = _withdraw(session, campaign.id, (P.PENDING, P.RETRY_SCHEDULED, P.QUEUED),
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


def trip_breaker(session: Session, campaign_id: str, *, now: datetime, detail: str) -> bool:
    """Pause a running campaign because too many calls failed. False if not running."""
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status != st.CampaignStatus.RUNNING or campaign.breaker_open:
        return False
    campaign.breaker_open = True
    _transition(campaign, "pause", now)
    campaign.pause_reason = "circuit_breaker"
    _close_execution(session, campaign, now, st.CampaignStatus.PAUSED)
    _return_queued_calls(session, campaign.id, now)
    record_event(session, campaign.id, at=now, action="breaker_tripped", detail=detail)
    record_event(session, campaign.id, at=now, action="paused", detail="circuit_breaker")
    return True


def _withdraw(session: Session, campaign_id: str, statuses: tuple[str, ...], *,
              now: datetime) -> int:
    """Delete the campaign's queued calls (never placed) and cancel its participants in
    ``statuses``; returns how many were canceled. Stop and fail end a campaign so."""
    session.execute(delete(Call).where(Call.campaign_id == campaign_id,
                                       Call.status == st.CallStatus.QUEUED))
    return rowcount(session.execute(
        update(Participant)
        .where(Participant.campaign_id == campaign_id, Participant.status.in_(statuses))
        .values(status=P.CANCELED, next_attempt_at=None, updated_at=now)))


def fail(session: Session, campaign_id: str, *, now: datetime, reason: str,
         detail: str) -> bool:
    """Give up a campaign that cannot be dispatched (service/isolation.py); False when
    it is already terminal or deleted.

    Like a stop: queued calls are withdrawn and open contacts canceled. Calls in
    progress are closed as failed (a late result is ignored); their channel leases
    are not released but run out at the call's own deadline, so no cap is exceeded
    while such a call may still ring.
    """
    campaign = session.scalar(select(Campaign).where(
        Campaign.id == campaign_id, Campaign.deleted_at.is_(None)).with_for_update())
    if campaign is None or campaign.status not in lifecycle.allowed_from("fail"):
        return False
    _transition(campaign, "fail", now)
    campaign.pause_reason = reason
    _close_execution(session, campaign, now, st.CampaignStatus.FAILED)
    session.execute(update(Call).where(
        Call.campaign_id == campaign.id, Call.status.in_(st.CALL_HOLDING_CHANNEL))
        .values(status=st.CallStatus.ENDED, outcome=st.Outcome.FAILED, ended_at=now,
                detail="campaign failed"))
    canceled = _withdraw(session, campaign.id, PARTICIPANT_OPEN, now=now)
    record_event(session, campaign.id, at=now, action="failed",
                 detail=f"{detail}; {canceled} open contacts canceled")
    return True


def complete_if_done(session: Session, campaign_id: str, *, now: datetime) -> bool:
    """Complete a running campaign with no open participant left."""
    still_open = session.scalar(select(func.count()).select_from(
        select(Participant.id).where(Participant.campaign_id == campaign_id,
                                     Participant.status.in_(PARTICIPANT_OPEN)).limit(1).subquery()))
    if still_open:
        return False
    campaign = session.scalar(select(Campaign).where(
        Campaign.id == campaign_id, Campaign.status == st.CampaignStatus.RUNNING).with_for_update())
    if campaign is None:
        return False
    _transition(campaign, "complete", now)
    _close_execution(session, campaign, now, st.CampaignStatus.COMPLETED)
    counts = dict(session.execute(
        select(Participant.status, func.count()).where(Participant.campaign_id == campaign_id)
        .group_by(Participant.status)).all())
    record_event(session, campaign.id, at=now, action="completed",
                 detail=", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no contacts")
    spec = campaign_spec(campaign)
    if spec.schedule.recurrence:
        _rearm(session, campaign, spec, now)
    return True


def _rearm(session: Session, campaign: Campaign, spec: CampaignSpec, now: datetime) -> None:
    """A recurring campaign waits for its next period and then dials everyone again."""
    run_started = session.scalar(select(func.min(Execution.started_at)).where(
        Execution.campaign_id == campaign.id,
        Execution.execution_number == current_execution_number(session, campaign.id)))
    next_run = next_period_start(spec.schedule.recurrence, started=run_started or now, now=now,
                                 zone=spec.zone)
    _transition(campaign, "rearm", now)
    campaign.scheduled_at = next_run
    session.execute(
        update(Participant).where(Participant.campaign_id == campaign.id)
        .values(status=P.PENDING, attempts=0, cycle=Participant.cycle + 1,
                next_attempt_at=next_run, skip_reason=None, updated_at=now))
    record_event(session, campaign.id, at=now, action="scheduled", source="system",
                 detail=f"recurrence {spec.schedule.recurrence}: next run at "
                        f"{next_run.isoformat()}")


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


def _transition(campaign: Campaign, command: str, now: datetime) -> None:
    campaign.status = lifecycle.next_status(campaign.status, command)
    campaign.updated_at = now


def _open_execution(session: Session, campaign: Campaign, now: datetime) -> None:
    number = (session.scalar(select(func.max(Execution.execution_number))
                             .where(Execution.campaign_id == campaign.id)) or 0) + 1
    total = session.scalar(select(func.count()).where(
        Participant.campaign_id == campaign.id, Participant.status.in_(PARTICIPANT_OPEN))) or 0
    session.add(Execution(campaign_id=campaign.id, execution_number=number,
                          status=st.CampaignStatus.RUNNING, started_at=now,
                          total_members=total))


def _close_execution(session: Session, campaign: Campaign, now: datetime, status: str) -> None:
    session.execute(update(Execution).where(
        Execution.campaign_id == campaign.id, Execution.ended_at.is_(None)
    ).values(status=status, ended_at=now))


def current_execution_number(session: Session, campaign_id: str) -> int:
    return session.scalar(select(func.max(Execution.execution_number))
                          .where(Execution.campaign_id == campaign_id)) or 1


def _return_queued_calls(session: Session, campaign_id: str, now: datetime) -> None:
    """Calls queued but not yet dialed go back to their contacts (pause)."""
    participant_ids = session.scalars(
        delete(Call).where(Call.campaign_id == campaign_id, Call.status == st.CallStatus.QUEUED)
        .returning(Call.participant_id)).all()
    if participant_ids:
        restore_after_putback(session, list(participant_ids), next_attempt_at=now, now=now)


def restore_after_putback(session: Session, participant_ids: list[int], *,
                          next_attempt_at: datetime, now: datetime) -> None:
    """An attempt that was queued but never placed does not count."""
    session.execute(text("""
        UPDATE participants SET attempts = attempts - 1,
            status = CASE WHEN attempts - 1 = 0 THEN 'pending' ELSE 'retry_scheduled' END,
            next_attempt_at = :at, updated_at = :now
        WHERE id = ANY(:ids) AND status IN ('queued', 'dialing')
    """), {"ids": participant_ids, "at": next_attempt_at, "now": now})

