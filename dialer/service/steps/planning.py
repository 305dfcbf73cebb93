"""Planning one campaign's next calls: the tick does it for every running
campaign, a result for its own campaign when it freed a busy channel (refill).

Cost depends on the batch, not the audience: due participants come from the
partial index on waiting participants, and a contact whose window is closed
gets ``next_attempt_at`` moved to its next opening, so that later passes do
not read it again until then. Each dispatch holds the campaign's row lock.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dialer.calendar import CallingRules
from dialer.eligibility import check_contact
from dialer.pacing import Usage, call_deadline, dispatch_budget, next_free_slot_after, plan_slots
from dialer.retry import after_unusable_number
from dialer.service.isolation import isolated, reset_failures
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import cached_spec
from dialer.service.steps import campaign_state
from dialer.service.targets import FrequencyCaps, facts_for
from dialer.spec import CampaignSpec
from dialer.statuses import ParticipantStatus as P
from dialer.store import calls, participants
from dialer.store import dispatch as store
from dialer.store.events import record_event, record_skip
from dialer.store.leads import REMOVED
from models.tables import Campaign, Participant

log = logging.getLogger(__name__)

PLAN_AHEAD_TICKS = 2


@dataclass(frozen=True)
class QueuedCall:
    call_id: str
    countdown_s: float


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
        send(rt, queued)
    return len(queued)


def send(rt: Runtime, queued: list[QueuedCall]) -> None:
    """Send the dial tasks of committed calls."""
    for call in queued:
        rt.dispatcher.send_dial(call.call_id, countdown_s=call.countdown_s)


def dispatch_campaign(rt: Runtime, campaign_id: str, now: datetime, *,
                      wait_for_lock: bool = False) -> list[QueuedCall]:
    """Queue this pass's calls for one campaign; returns them for sending after commit.

    A tick skips a campaign whose row is locked: another tick is dispatching it.
    """
    with rt.transaction() as session:
        locked = store.lock_for_dispatch(session, campaign_id, wait=wait_for_lock)
        if locked is None:
            return []
        campaign, digest, execution_number, org_cap = locked
        spec = cached_spec(session, campaign_id, digest).spec
        # Rolled back with the rest if anything below raises: only a dispatch that
        # goes through ends a run of failures.
        reset_failures(campaign)
        budget = dispatch_budget(pacing=spec.pacing, usage=read_usage(session, campaign, spec, now),
                                 org_cap=rt.org_cap(org_cap))
        if budget <= 0:
            return []
        horizon_s = plan_horizon_s(rt)
        slots = plan_slots(pacing=spec.pacing, budget=budget, now=now,
                           next_free_slot=campaign.next_free_slot_at, horizon_s=horizon_s)
        if not slots:
            return []
        caller_ids = active_caller_ids(session, campaign)
        if caller_ids is not None and not caller_ids:
            _note_no_numbers(rt, session, campaign, now)
            return []
        if campaign.no_caller_id_since is not None:
            campaign.no_caller_id_since = None  # a caller ID is back: the clock restarts
        chosen = pick_participants(session, campaign, spec, now, len(slots), caps=rt.caps,
                                   until=now + timedelta(seconds=horizon_s))
        if not chosen:
            return []
        deadline = call_deadline(spec.call_handling, grace_s=rt.grace_s)
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
            participant.phone_attempts += 1
            participant.status = P.QUEUED
            participant.updated_at = now
            calls.add_queued(
                session, call_id=call_id, participant_id=participant.id,
                campaign_id=campaign.id, contact_id=participant.contact_id,
                execution_number=execution_number, cycle=participant.cycle,
                attempt=participant.attempts, to_number=participant.phone,
                from_number=from_number, now=now, dispatch_at=slot,
                deadline_at=slot + deadline)
            queued.append(QueuedCall(call_id, rt.clock.real_seconds((slot - now).total_seconds())))
        campaign.next_free_slot_at = next_free_slot_after(slots[: len(queued)], spec.pacing)
    return queued


def pick_participants(
    session: Session, campaign: Campaign, spec: CampaignSpec, now: datetime, wanted: int, *,
    caps: FrequencyCaps, until: datetime,
) -> list[tuple[Participant, datetime]]:
    """Lock participants due before ``until``, settle those that may not be called when
    due, and return the callable ones with the instant they are due."""
    rows = participants.lock_due(session, campaign.id, due_by_at=until, limit=wanted * 4 + 8)
    if not rows:
        return []
    rules = CallingRules.of(spec)
    facts = facts_for(session, spec, [(r[0].phone, r[1]) for r in rows], org_id=campaign.org_id,
                      now=now, caps=caps)
    chosen: list[tuple[Participant, datetime]] = []
    for participant, _tz, secondary, removed in rows:
        if len(chosen) >= wanted:
            break
        if removed:
            # Its contact left the audience while a call was in progress, and that call's
            # result scheduled a retry: it ends here (steps/leads.py).
            participant.status = P.CANCELED
            participant.skip_reason = REMOVED
            participant.next_attempt_at = None
            participant.updated_at = now
            continue
        assert participant.next_attempt_at is not None  # "due" compares it
        due_at = max(now, participant.next_attempt_at)
        verdict = check_contact(now=due_at, rules=rules, facts=facts[participant.phone],
                                respect_dnc=spec.safety.respect_dnc)
        if verdict.callable:
            chosen.append((participant, due_at))
            continue
        participant.updated_at = now
        participant.skip_reason = verdict.reason
        if verdict.reason == "dnc" and _move_to_next_number(participant, secondary, due_at):
            record_skip(session, campaign.id, participant.id, at=now, reason="dnc",
                        detail=f"number {participant.phone_index - 1} on the do-not-call list; "
                               f"number {participant.phone_index} next")
            continue
        if verdict.action == "skip":
            participant.status = verdict.status or P.SKIPPED
            participant.next_attempt_at = None
        else:
            participant.next_attempt_at = verdict.until
        record_skip(session, campaign.id, participant.id, at=now, reason=verdict.reason or "",
                    detail=f"until {verdict.until.isoformat()}" if verdict.until else None)
    return chosen


def _move_to_next_number(participant: Participant, secondary: list[str],
                         due_at: datetime) -> bool:
    """A number that may not be dialed passes the contact to its next number, without an
    attempt; False when it has none left. The next number is checked by a later pass
    (its own DNC, caps and calendar), so it stays due."""
    following = after_unusable_number(phone_index=participant.phone_index,
                                      numbers=1 + len(secondary))
    if following is None:
        return False
    participant.phone = secondary[following - 1]
    participant.phone_index = following
    participant.phone_attempts = 0
    participant.next_attempt_at = due_at
    return True


def read_usage(session: Session, campaign: Campaign, spec: CampaignSpec, now: datetime) -> Usage:
    in_flight, org_in_flight = calls.in_flight_counts(session, campaign.id, campaign.org_id)
    placed_today = 0
    if spec.pacing.daily_limit is not None:
        local_midnight = now.astimezone(spec.zone).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)
        placed_today = calls.placed_or_queued_since(session, campaign.id, local_midnight)
    return Usage(in_flight=in_flight, org_in_flight=org_in_flight, placed_today=placed_today)


def active_caller_ids(session: Session, campaign: Campaign) -> list[str] | None:
    """Active caller IDs in the campaign's order; None when the campaign names none."""
    if not campaign.phone_number_ids:
        return None
    numbers = store.active_numbers(session, campaign.phone_number_ids, org_id=campaign.org_id)
    return [numbers[i] for i in campaign.phone_number_ids if i in numbers]


NO_CALLER_ID = "no_caller_id"


def _note_no_numbers(rt: Runtime, session: Session, campaign: Campaign, now: datetime) -> None:
    """Nothing is dialed while no caller ID of the campaign is active; past
    ``DIALER_FAIL_NO_CALLER_ID_AFTER_S`` of that, the campaign fails: waiting has not
    brought a number back, a person must (docs/contract.md §6)."""
    # Said once, not every tick: the latest event tells whether it was.
    if store.latest_action(session, campaign.id) != "no_active_numbers":
        record_event(session, campaign.id, at=now, action="no_active_numbers",
                     detail="every caller ID of this campaign is inactive; nothing is dialed")
    since = campaign.no_caller_id_since
    if since is None:
        campaign.no_caller_id_since = now
        return
    limit_s = rt.settings.fail_no_caller_id_after_s
    if limit_s <= 0 or (now - since).total_seconds() < limit_s:
        return
    error = (f"no active caller ID for {(now - since).total_seconds():.0f} s "
             f"(DIALER_FAIL_NO_CALLER_ID_AFTER_S={limit_s:g}): activate one of the campaign's "
             f"{len(campaign.phone_number_ids)} phone numbers and create the campaign again")
    if campaign_state.fail(session, campaign.id, now=now, reason=NO_CALLER_ID, detail=error):
        log.warning("campaign %s failed: %s", campaign.id, error)
