"""A campaign's state as the engine moves it: loading, the transitions the engine
makes by itself (scheduled start, completion and re-arming, the breaker, failure),
executions, and giving back calls that were queued but never placed.

Shared by the operator's use cases (service/campaigns.py) and the engine's (tick,
results, sweep, isolation): use cases never import each other, they import this.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dialer import lifecycle
from dialer import statuses as st
from dialer.errors import NotFound
from dialer.ids import is_uuid
from dialer.recurrence import next_period_start
from dialer.service.events import record_event
from dialer.spec import CampaignSpec
from dialer.statuses import PARTICIPANT_OPEN
from dialer.statuses import ParticipantStatus as P
from dialer.store.sql import rowcount
from models.tables import Call, Campaign, Execution, Participant


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


def start_due_scheduled(session: Session, *, now: datetime) -> list[str]:
    """Start every scheduled campaign whose time has come (conditional, so two ticks agree)."""
    ids = session.scalars(
        select(Campaign.id).where(Campaign.status == st.CampaignStatus.SCHEDULED,
                                  Campaign.scheduled_at <= now, Campaign.deleted_at.is_(None))
        .with_for_update(skip_locked=True)
    ).all()
    for campaign_id in ids:
        campaign = load_campaign(session, campaign_id)
        transition(campaign, "start", now)
        open_execution(session, campaign, now)
        record_event(session, campaign.id, at=now, action="started", source="system",
                     detail="scheduled start")
    return list(ids)


def trip_breaker(session: Session, campaign_id: str, *, now: datetime, detail: str) -> bool:
    """Pause a running campaign because too many calls failed. False if not running."""
    campaign = load_campaign(session, campaign_id, lock=True)
    if campaign.status != st.CampaignStatus.RUNNING or campaign.breaker_open:
        return False
    campaign.breaker_open = True
    transition(campaign, "pause", now)
    campaign.pause_reason = "circuit_breaker"
    close_execution(session, campaign, now, st.CampaignStatus.PAUSED)
    return_queued_calls(session, campaign.id, now)
    record_event(session, campaign.id, at=now, action="breaker_tripped", detail=detail)
    record_event(session, campaign.id, at=now, action="paused", detail="circuit_breaker")
    return True


def withdraw(session: Session, campaign_id: str, statuses: tuple[str, ...], *,
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
    transition(campaign, "fail", now)
    campaign.pause_reason = reason
    close_execution(session, campaign, now, st.CampaignStatus.FAILED)
    session.execute(update(Call).where(
        Call.campaign_id == campaign.id, Call.status.in_(st.CALL_HOLDING_CHANNEL))
        .values(status=st.CallStatus.ENDED, outcome=st.Outcome.FAILED, ended_at=now,
                detail="campaign failed"))
    canceled = withdraw(session, campaign.id, PARTICIPANT_OPEN, now=now)
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
    transition(campaign, "complete", now)
    close_execution(session, campaign, now, st.CampaignStatus.COMPLETED)
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
    transition(campaign, "rearm", now)
    campaign.scheduled_at = next_run
    session.execute(
        update(Participant).where(Participant.campaign_id == campaign.id)
        .values(status=P.PENDING, attempts=0, cycle=Participant.cycle + 1,
                next_attempt_at=next_run, skip_reason=None, updated_at=now))
    record_event(session, campaign.id, at=now, action="scheduled", source="system",
                 detail=f"recurrence {spec.schedule.recurrence}: next run at "
                        f"{next_run.isoformat()}")


def transition(campaign: Campaign, command: str, now: datetime) -> None:
    campaign.status = lifecycle.next_status(campaign.status, command)
    campaign.updated_at = now


def open_execution(session: Session, campaign: Campaign, now: datetime) -> None:
    number = (session.scalar(select(func.max(Execution.execution_number))
                             .where(Execution.campaign_id == campaign.id)) or 0) + 1
    total = session.scalar(select(func.count()).where(
        Participant.campaign_id == campaign.id, Participant.status.in_(PARTICIPANT_OPEN))) or 0
    session.add(Execution(campaign_id=campaign.id, execution_number=number,
                          status=st.CampaignStatus.RUNNING, started_at=now,
                          total_members=total))


def close_execution(session: Session, campaign: Campaign, now: datetime, status: str) -> None:
    session.execute(update(Execution).where(
        Execution.campaign_id == campaign.id, Execution.ended_at.is_(None)
    ).values(status=status, ended_at=now))


def current_execution_number(session: Session, campaign_id: str) -> int:
    return session.scalar(select(func.max(Execution.execution_number))
                          .where(Execution.campaign_id == campaign_id)) or 1


def return_queued_calls(session: Session, campaign_id: str, now: datetime) -> None:
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
