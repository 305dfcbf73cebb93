"""The tick: start due campaigns, then queue the next calls of each running one.

Cost depends on the batch, not the audience: due participants come from the
``(campaign_id, status, next_attempt_at)`` index, and a contact whose window
is closed gets ``next_attempt_at`` moved to its next opening so that later
ticks do not read it again until then. Two ticks at once are harmless: each
campaign is dispatched under its row lock (``SKIP LOCKED``: the other tick
moves on), and the channel lease is re-checked at dial time anyway.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.calendar import CallingRules
from dialer.eligibility import check_contact
from dialer.pacing import Usage, dispatch_budget, next_free_slot_after, plan_slots
from dialer.service.isolation import isolated, reset_failures
from dialer.service.leasing import ensure_leases_ready
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import cached_spec
from dialer.service.steps import campaign_state
from dialer.service.targets import FrequencyCaps, facts_for
from dialer.spec import CampaignSpec
from dialer.statuses import PARTICIPANT_DUE
from dialer.statuses import ParticipantStatus as P
from dialer.store.events import record_event, record_skip
from models.db import transaction
from models.tables import Call, Campaign, Contact, Event, Execution, Participant, PhoneNumber

log = logging.getLogger(__name__)

PLAN_AHEAD_TICKS = 2


@dataclass
class TickReport:
    started: list[str] = field(default_factory=list)
    queued: dict[str, int] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueuedCall:
    call_id: str
    countdown_s: float


def tick(rt: Runtime) -> TickReport:
    now = rt.clock.now()
    report = TickReport()
    ensure_leases_ready(rt, now)
    with transaction(rt.sessions) as session:
        report.started = campaign_state.start_due_scheduled(session, now=now)
    with rt.sessions() as session:
        running = session.scalars(
            select(Campaign.id).where(Campaign.status == st.CampaignStatus.RUNNING,
                                      Campaign.deleted_at.is_(None))
            .order_by(Campaign.priority.desc(), Campaign.created_at)).all()
    for campaign_id in running:
        # One campaign that cannot be dispatched is recorded and skipped, never the tick.
        with isolated(rt, campaign_id, step="tick", now=now):
            _tick_campaign(rt, campaign_id, now, report)
    return report


def _tick_campaign(rt: Runtime, campaign_id: str, now: datetime, report: TickReport) -> None:
    queued = dispatch_campaign(rt, campaign_id, now)
    for call in queued:
        rt.dispatcher.send_dial(call.call_id, countdown_s=call.countdown_s)
    if queued:
        report.queued[campaign_id] = len(queued)
    with transaction(rt.sessions) as session:
        if campaign_state.complete_if_done(session, campaign_id, now=now):
            report.completed.append(campaign_id)


def plan_horizon_s(rt: Runtime) -> float:
    """Simulated seconds ahead that one dispatch plans for.

    Two tick intervals: a tick that expired in a busy queue (beat sends them
    with expires < interval) must not leave a hole in the pace.
    """
    return PLAN_AHEAD_TICKS * rt.settings.tick_seconds * rt.clock.time_scale


def refill(rt: Runtime, campaign_id: str, now: datetime) -> int:
    """A channel just came free: queue the campaign's next calls now, not at the next tick.

    The same planning as the tick under the same row lock, so every cap and
    the pacing hold exactly as they do for the tick. Unlike the tick, it waits
    for the lock: whoever holds it (a tick, another refill) may have counted
    the channels before this one came free. Returns how many were queued.
    """
    queued: list[QueuedCall] = []
    # The result that freed the channel is committed: a campaign that cannot be
    # dispatched is recorded here and must not fail (and retry) that result's task.
    with isolated(rt, campaign_id, step="refill", now=now):
        queued = dispatch_campaign(rt, campaign_id, now, wait_for_lock=True)
        for call in queued:
            rt.dispatcher.send_dial(call.call_id, countdown_s=call.countdown_s)
    return len(queued)


def dispatch_campaign(rt: Runtime, campaign_id: str, now: datetime, *,
                      wait_for_lock: bool = False) -> list[QueuedCall]:
    """Queue this tick's calls for one campaign; returns them for sending after commit.

    A tick skips a campaign whose row is locked: another tick is dispatching it.
    """
    with transaction(rt.sessions) as session:
        # With the row: its spec's digest (for the spec cache) and its current execution.
        execution = (select(func.coalesce(func.max(Execution.execution_number), 1))
                     .where(Execution.campaign_id == Campaign.id).scalar_subquery())
        locked = session.execute(
            select(Campaign, func.md5(cast(Campaign.spec, Text)), execution)
            .where(Campaign.id == campaign_id, Campaign.status == st.CampaignStatus.RUNNING)
            .with_for_update(of=Campaign, key_share=True,  # results hold KEY SHARE
                             skip_locked=not wait_for_lock)).first()
        if locked is None:
            return []
        campaign, digest, execution_number = locked
        # The parsed spec comes from the per-process cache; channels are the column's.
        cached = cached_spec(session, campaign_id, digest).spec
        # Rolled back with the rest if anything below raises: only a dispatch that
        # goes through ends a run of failures.
        reset_failures(campaign)
        spec = cached.model_copy(update={"pacing": cached.pacing.model_copy(
            update={"channels": campaign.channels})})
        budget = dispatch_budget(pacing=spec.pacing, usage=read_usage(session, campaign, spec, now),
                                 org_cap=rt.settings.org_channel_cap)
        if budget <= 0:
            return []
        horizon_s = plan_horizon_s(rt)
        slots = plan_slots(pacing=spec.pacing, budget=budget, now=now,
                           next_free_slot=campaign.next_free_slot_at, horizon_s=horizon_s)
        if not slots:
            return []
        caller_ids = active_caller_ids(session, campaign)
        if caller_ids is not None and not caller_ids:
            _note_no_numbers(session, campaign, now)
            return []
        chosen = pick_participants(session, campaign, spec, now, len(slots), caps=rt.caps,
                                   until=now + timedelta(seconds=horizon_s))
        if not chosen:
            return []
        queued: list[QueuedCall] = []
        for (participant, due_at), planned in zip(chosen, slots, strict=False):
            # A contact whose window opens within this tick is dialed at the opening,
            # not up to a tick later (a tick is an hour of simulated time at 3600x).
            slot = max(planned, due_at)
            from_number = None
            if caller_ids:
                from_number = caller_ids[campaign.caller_id_cursor % len(caller_ids)]
                campaign.caller_id_cursor += 1
            call_id = str(uuid.uuid4())
            participant.attempts += 1
            participant.status = P.QUEUED
            participant.updated_at = now
            session.add(Call(
                id=call_id, participant_id=participant.id, campaign_id=campaign.id,
                contact_id=participant.contact_id, execution_number=execution_number,
                cycle=participant.cycle, attempt=participant.attempts, status=st.CallStatus.QUEUED,
                to_number=participant.phone, from_number=from_number, queued_at=now,
                dispatch_at=slot, deadline_at=slot + call_deadline(spec, rt.grace_s),
            ))
            queued.append(QueuedCall(call_id, rt.clock.real_seconds((slot - now).total_seconds())))
        campaign.next_free_slot_at = next_free_slot_after(slots[: len(queued)], spec.pacing)
    return queued


def pick_participants(
    session: Session, campaign: Campaign, spec: CampaignSpec, now: datetime, wanted: int, *,
    caps: FrequencyCaps, until: datetime,
) -> list[tuple[Participant, datetime]]:
    """Lock participants due before ``until``, settle those that may not be called when
    due, and return the callable ones with the instant they are due."""
    rows = session.execute(
        select(Participant, Contact.timezone)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.campaign_id == campaign.id, Participant.status.in_(PARTICIPANT_DUE),
               Participant.next_attempt_at <= until)
        .order_by(Participant.next_attempt_at, Participant.id)
        .limit(wanted * 4 + 8)
        .with_for_update(of=Participant, skip_locked=True)
    ).all()
    if not rows:
        return []
    rules = CallingRules.of(spec)
    facts = facts_for(session, spec, [(r[0].phone, r[1]) for r in rows], now=now, caps=caps)
    chosen: list[tuple[Participant, datetime]] = []
    for participant, _tz in rows:
        if len(chosen) >= wanted:
            break
        due_at = max(now, participant.next_attempt_at)
        verdict = check_contact(now=due_at, rules=rules, facts=facts[participant.phone],
                                respect_dnc=spec.safety.respect_dnc)
        if verdict.callable:
            chosen.append((participant, due_at))
            continue
        participant.updated_at = now
        participant.skip_reason = verdict.reason
        if verdict.action == "skip":
            participant.status = verdict.status or P.SKIPPED
            participant.next_attempt_at = None
        else:
            participant.next_attempt_at = verdict.until
        record_skip(session, campaign.id, participant.id, at=now, reason=verdict.reason or "",
                    detail=f"until {verdict.until.isoformat()}" if verdict.until else None)
    return chosen


def read_usage(session: Session, campaign: Campaign, spec: CampaignSpec, now: datetime) -> Usage:
    # One scan of the calls in flight gives both counts.
    in_flight, org_in_flight = session.execute(
        select(func.count().filter(Call.campaign_id == campaign.id), func.count())
        .where(Call.status.in_(st.CALL_IN_FLIGHT))).one()
    placed_today = 0
    if spec.pacing.daily_limit is not None:
        local_midnight = now.astimezone(spec.zone).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)
        placed_today = session.scalar(select(func.count()).where(
            Call.campaign_id == campaign.id,
            (Call.placed_at >= local_midnight) | (Call.status == st.CallStatus.QUEUED),
        )) or 0
    return Usage(in_flight=in_flight, org_in_flight=org_in_flight, placed_today=placed_today)


def active_caller_ids(session: Session, campaign: Campaign) -> list[str] | None:
    """Active caller IDs in the campaign's order; None when the campaign names none."""
    if not campaign.phone_number_ids:
        return None
    rows = dict(session.execute(select(PhoneNumber.id, PhoneNumber.number).where(
        PhoneNumber.id.in_(campaign.phone_number_ids), PhoneNumber.is_active.is_(True))).all())
    return [rows[i] for i in campaign.phone_number_ids if i in rows]


def call_deadline(spec: CampaignSpec, grace_s: float) -> timedelta:
    handling = spec.call_handling
    return timedelta(seconds=handling.ring_timeout_s + handling.max_duration_s + grace_s)


def _note_no_numbers(session: Session, campaign: Campaign, now: datetime) -> None:
    # Said once, not every tick: the latest event tells whether it was.
    latest = session.scalar(select(Event.action).where(Event.campaign_id == campaign.id)
                            .order_by(Event.id.desc()).limit(1))
    if latest != "no_active_numbers":
        record_event(session, campaign.id, at=now, action="no_active_numbers",
                     detail="every caller ID of this campaign is inactive; nothing is dialed")
