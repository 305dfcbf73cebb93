"""A campaign's state as the engine moves it: loading, the transitions the engine
makes by itself (scheduled start, completion and re-arming, the breaker, failure),
executions, and giving back calls that were queued but never placed.

Shared by the operator's commands (steps/campaign_commands.py) and the engine's
use cases (tick, results, sweep, isolation): use cases never import each other,
they import this.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dialer import lifecycle
from dialer import statuses as st
from dialer.errors import NotFound
from dialer.ids import is_uuid
from dialer.recurrence import next_period_start
from dialer.spec import CampaignSpec
from dialer.statuses import PARTICIPANT_OPEN
from dialer.store import campaign_members as members
from dialer.store import campaigns, executions
from dialer.store.events import record_event
from models.tables import Campaign

# A campaign's error is a sentence or two, shown in lists (the detail is masked already).
ERROR_CHARS = 1000


def load_campaign(session: Session, campaign_id: str, *, lock: bool = False,
                  org_id: str | None = None) -> Campaign:
    """The campaign, not deleted; NotFound otherwise. Whatever acts for an organisation
    passes ``org_id``: another organisation's campaign is then NotFound too. Only the
    engine's own passes (tick, dial, results, sweep) leave it out."""
    campaign = (campaigns.get(session, campaign_id, lock=lock, org_id=org_id)
                if is_uuid(campaign_id) else None)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def campaign_spec(campaign: Campaign) -> CampaignSpec:
    """The stored spec, the one source of every setting (the channel count included)."""
    return CampaignSpec.model_validate(campaign.spec)


def start_due_scheduled(session: Session, *, now: datetime) -> list[str]:
    """Start every scheduled campaign whose time has come (conditional, so two ticks agree)."""
    ids = campaigns.lock_due_scheduled(session, now=now)
    for campaign_id in ids:
        campaign = load_campaign(session, campaign_id)
        transition(campaign, "start", now)
        open_execution(session, campaign, now)
        record_event(session, campaign.id, at=now, action="started",
                     source=st.EventSource.SYSTEM, detail="scheduled start")
    return ids


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
    members.delete_queued_calls(session, campaign_id)
    return members.cancel_participants(session, campaign_id, statuses, now=now)


def fail(session: Session, campaign_id: str, *, now: datetime, reason: str,
         detail: str) -> bool:
    """Give up a campaign that cannot be dispatched (service/isolation.py) or whose
    configuration lets no call through (no active caller ID, the provider refusing every
    call: service/steps/planning.py, service/dial.py); False when it is already terminal
    or deleted. ``reason`` is its ``pause_reason`` (a word), ``detail`` its ``error``
    (shown with ``failed_at`` in the campaign's view, docs/contract.md §6).

    Like a stop: queued calls are withdrawn and open contacts canceled. Calls in
    progress are closed as failed (a late result is ignored); their channel leases
    are not released but run out at the call's own deadline, so no cap is exceeded
    while such a call may still ring.
    """
    campaign = campaigns.get(session, campaign_id, lock=True)
    if campaign is None or campaign.status not in lifecycle.allowed_from("fail"):
        return False
    transition(campaign, "fail", now)
    campaign.pause_reason = reason
    campaign.error = detail[:ERROR_CHARS]
    campaign.failed_at = now
    close_execution(session, campaign, now, st.CampaignStatus.FAILED)
    members.fail_calls_holding_channel(session, campaign.id, now=now, detail="campaign failed")
    canceled = withdraw(session, campaign.id, PARTICIPANT_OPEN, now=now)
    record_event(session, campaign.id, at=now, action="failed",
                 detail=f"{detail}; {canceled} open contacts canceled")
    return True


def complete_if_done(session: Session, campaign_id: str, *, now: datetime,
                     wait: bool = True) -> bool:
    """Complete a running campaign with no open participant left.

    A result (``wait=False``) holds the campaign's row KEY SHARE and its call's and
    participant's rows already: it completes the campaign only if the row is free, never
    waiting for it (ARCHITECTURE.md, "Locks"); held (by a tick failing the campaign, a
    late answer waiting for that participant, a dial's claim), the completion is left to
    the next tick or sweep, which call this in a transaction of their own (``wait``)."""
    if members.has_open_participant(session, campaign_id):
        return False
    campaign = campaigns.lock_running(session, campaign_id, wait=wait)
    # Asked again under the lock: contacts added (or requeued) by a transaction that held
    # it meanwhile are open participants now (steps/leads.py).
    if campaign is None or members.has_open_participant(session, campaign_id):
        return False
    transition(campaign, "complete", now)
    close_execution(session, campaign, now, st.CampaignStatus.COMPLETED)
    counts = members.participant_counts(session, campaign_id)
    record_event(session, campaign.id, at=now, action="completed",
                 detail=", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no contacts")
    spec = campaign_spec(campaign)
    if spec.schedule.recurrence:
        _rearm(session, campaign, spec, now)
    return True


def _rearm(session: Session, campaign: Campaign, spec: CampaignSpec, now: datetime) -> None:
    """A recurring campaign waits for its next period and then dials its audience as it is
    then: everyone again, and contacts added since (removed and closed ones not)."""
    assert spec.schedule.recurrence is not None
    run_started = executions.started_at(
        session, campaign.id, current_execution_number(session, campaign.id))
    next_run = next_period_start(spec.schedule.recurrence, started=run_started or now, now=now,
                                 zone=spec.zone)
    transition(campaign, "rearm", now)
    campaign.scheduled_at = next_run
    members.start_new_cycle(session, campaign.id, campaign.audience_id,
                            next_attempt_at=next_run, now=now)
    record_event(session, campaign.id, at=now, action="scheduled", source=st.EventSource.SYSTEM,
                 detail=f"recurrence {spec.schedule.recurrence}: next run at "
                        f"{next_run.isoformat()}")


def transition(campaign: Campaign, command: str, now: datetime) -> None:
    """Move the campaign by ``command``; InvalidTransition when its status forbids it,
    or (naming ``agent_id``) when the move ends in dialing and it has no agent."""
    status = lifecycle.next_status(campaign.status, command)
    lifecycle.check_agent(command, campaign.agent_id)
    campaign.status = status
    campaign.updated_at = now


def open_execution(session: Session, campaign: Campaign, now: datetime) -> None:
    # A new run measures its own time without a caller ID (steps/planning.py).
    campaign.no_caller_id_since = None
    executions.open_next(session, campaign.id, now=now,
                         total_members=members.count_open_participants(session, campaign.id))


def close_execution(session: Session, campaign: Campaign, now: datetime, status: str) -> None:
    executions.close_open(session, campaign.id, now=now, status=status)


def current_execution_number(session: Session, campaign_id: str) -> int:
    return executions.current_number(session, campaign_id)


def return_queued_calls(session: Session, campaign_id: str, now: datetime) -> None:
    """Calls queued but not yet dialed go back to their contacts (pause)."""
    participant_ids = members.delete_queued_calls(session, campaign_id)
    if participant_ids:
        restore_after_putback(session, participant_ids, next_attempt_at=now, now=now)


def restore_after_putback(session: Session, participant_ids: list[int], *,
                          next_attempt_at: datetime, now: datetime) -> None:
    """An attempt that was queued but never placed does not count."""
    members.restore_attempts(session, participant_ids, next_attempt_at=next_attempt_at, now=now)
