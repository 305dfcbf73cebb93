"""Dial one queued call: claim it, re-check everything, hold a channel, place it.

Every step is conditional on the call's status in PostgreSQL, so a dial
task delivered twice, or late, places at most one call.

This is the hottest path of the system. The task keeps one pooled
connection throughout, and everything up to ``place_call`` is one
transaction: the claim also reads what the re-check needs (campaign
columns, the contact, DNC membership, the spec's digest for the per-process
spec cache); the channel lease and the pacing limiter are asked while the
claimed row is locked; and marking the call placed also marks its
participant. A duplicate task waits on that row lock and then finds the call
claimed. The claim locks the campaign's row (KEY SHARE) before the call's, as
every path does (ARCHITECTURE.md, "Locks"): a stop, pause or failure holding
that row makes the claim wait before it holds anything the change needs. A
worker dying before the commit leaves the call queued, as if its task were
lost: the sweep sends it again, and the dial that follows
re-acquires the same call's lease (a lease is keyed by call id). If the
campaign is paused first, that lease just runs out at the call's deadline;
it only ever errs towards fewer calls. The claim also takes the lease gate
shared (``store.leases.LEASE_GATE``), so a rebuild after a Redis wipe waits
for this transaction and counts its channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.eligibility import check_contact
from dialer.pacing import call_deadline
from dialer.phones import mask, mask_digits
from dialer.provider import CallRequest
from dialer.service.provider_call import Refused, Unknown, place_with_timeout
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import CachedSpec, cached_spec
from dialer.service.steps import campaign_state
from dialer.service.steps.call_return import drop, drop_number, put_back
from dialer.service.targets import cap_reached_until, one_contact_facts
from dialer.statuses import ParticipantStatus as P
from dialer.store import calls
from dialer.store import dispatch as store_dispatch
from dialer.store.events import record_skip
from dialer.store.leases import LEASE_GATE

log = logging.getLogger(__name__)

# The skip reason of a call the provider refused with CallRefused(permanent=True), and
# the pause reason of a campaign failed by a run of them.
REFUSED_FOR_GOOD = "provider_refused_permanently"

# A pacing retry closer than this (simulated seconds) rides a countdown;
# anything longer goes back to the tick (no long ETAs on Redis).
SHORT_RETRY_S = 60.0


@dataclass(frozen=True)
class Claimed:
    call_id: str
    participant_id: int
    campaign_id: str
    org_id: str
    org_cap: int
    deadline: datetime
    channels: int


def dial(rt: Runtime, call_id: str) -> str:
    """Returns what happened, for logs and tests: placed, failed, requeued, returned, ..."""
    now = rt.clock.now()
    with rt.unit_of_work() as session:
        outcome = _claim_and_check(rt, session, call_id, now)
        if isinstance(outcome, str):
            session.commit()
            return outcome
        claimed, request, limits = outcome
        lease = rt.leases.acquire(call_id, campaign_id=claimed.campaign_id,
                                  org_id=claimed.org_id, campaign_limit=claimed.channels,
                                  org_limit=claimed.org_cap,
                                  now_s=now.timestamp(),
                                  expires_at_s=claimed.deadline.timestamp())
        if not lease.acquired:
            _return_to_tick(session, claimed, now)
            return f"returned:{lease.reason}"
        decision = rt.limiter.try_acquire(claimed.campaign_id, call_id, now_s=now.timestamp(),
                                          **limits)
        if not decision.allowed:
            _release(rt, claimed)
            return _requeue_for_pacing(rt, session, claimed, now, decision.retry_at_s,
                                       decision.reason)
        if rt.caps.active and _at_frequency_cap(session, rt, claimed, request.to, now):
            session.commit()
            _release(rt, claimed)
            return "returned:frequency_cap"
        marked = calls.mark_placed(session, call_id, deadline=claimed.deadline, now=now)
        session.commit()
        if not marked:  # cannot happen while we hold the claim; kept as a guard
            _release(rt, claimed)
            return "lost_claim"

        log.info("placing call %s attempt %d to %s", call_id, request.attempt, mask(request.to))
        answer = place_with_timeout(
            rt.provider, request, timeout_s=rt.settings.provider_timeout_s,
            on_late=lambda provider_call_id: _record_provider_id(rt, call_id, provider_call_id))
        if isinstance(answer, Refused):
            return _unplace(rt, session, claimed, answer)
        if isinstance(answer, Unknown):
            # Perhaps ringing: the call keeps its channel and its attempt, and the
            # sweep closes it as failed at its deadline unless a result comes first
            # (docs/contract.md §4: outcome failed). Only then may the contact be called again.
            return f"unknown:{answer.why}"
        calls.record_provider_id(session, call_id, answer.provider_call_id)
        session.commit()
    return "placed"


def _record_provider_id(rt: Runtime, call_id: str, provider_call_id: str) -> None:
    """A provider that answered after the dial stopped waiting: keep its id (status as is)."""
    with rt.transaction() as session:
        calls.record_provider_id(session, call_id, provider_call_id)


def _unplace(rt: Runtime, session: Session, claimed: Claimed, refused: Refused) -> str:
    """The provider certainly did not place the call: undo it, attempt not counted."""
    now = rt.clock.now()  # place_call may have taken a while
    # Retry-after is the provider's, in real seconds (like HTTP Retry-After).
    wait_s = rt.clock.time_scale * max(0.0, refused.retry_after_s or 0.0)
    # The campaign's row first, as every path takes it (ARCHITECTURE.md, "Locks"): the
    # skip below takes it KEY SHARE through its foreign key, and failing the campaign
    # FOR UPDATE; taken only then, after the call's and the participant's rows, it
    # deadlocked with a second refusal doing the same, or with a failure of the
    # campaign waiting for this call.
    # A run that has placed a call cannot fail so: then KEY SHARE (lock_before_refusal).
    may_fail = store_dispatch.lock_before_refusal(
        session, claimed.campaign_id,
        may_fail=refused.permanent and rt.settings.fail_after_provider_refusals > 0)
    failed = None
    if calls.delete_refused(session, claimed.call_id):
        campaign_state.restore_after_putback(
            session, [claimed.participant_id],
            next_attempt_at=now + timedelta(seconds=wait_s), now=now)
        reason = REFUSED_FOR_GOOD if refused.permanent else "provider_refused"
        record_skip(session, claimed.campaign_id, claimed.participant_id, at=now,
                    reason=reason, detail=mask_digits(refused.reason)[:200])
        if may_fail:
            failed = _fail_if_refused_throughout(rt, session, claimed, refused, now)
    session.commit()
    if failed:
        log.warning("campaign %s failed: %s", claimed.campaign_id, failed)
    _release(rt, claimed)
    log.info("provider refused call %s before placing it: put back", claimed.call_id)
    return "returned:provider_refused"


def _fail_if_refused_throughout(rt: Runtime, session: Session, claimed: Claimed,
                                refused: Refused, now: datetime) -> str | None:
    """The provider refused this call for good (and failing is on): when it refused the
    run's ``DIALER_FAIL_AFTER_PROVIDER_REFUSALS`` calls so and placed none, the campaign
    is failed (its configuration, not a passing fault: docs/contract.md §6). The error,
    or None when the campaign goes on."""
    enough = rt.settings.fail_after_provider_refusals
    session.flush()  # the skip just recorded is one of the refusals counted
    refusals, placed = store_dispatch.refusals_in_run(session, claimed.campaign_id,
                                                      reason=REFUSED_FOR_GOOD, enough=enough)
    if placed or refusals < enough:
        return None
    error = (f"the provider refused the first {refusals} calls of this run for good and "
             f"placed none: {mask_digits(refused.reason)[:300]}")
    if not campaign_state.fail(session, claimed.campaign_id, now=now, reason=REFUSED_FOR_GOOD,
                               detail=error):
        return None
    return error


def _release(rt: Runtime, claimed: Claimed) -> None:
    rt.leases.release(claimed.call_id, campaign_id=claimed.campaign_id, org_id=claimed.org_id)


def _claim_and_check(
    rt: Runtime, session: Session, call_id: str, now: datetime,
) -> str | tuple[Claimed, CallRequest, dict[str, Any]]:
    """Claim the call and re-check it; a string says why it goes no further."""
    row = calls.claim(session, call_id, gate=LEASE_GATE)
    if row is None:
        return "not_queued"
    if row.status != st.CampaignStatus.RUNNING or row.deleted_at is not None:
        if row.pause_reason == "circuit_breaker":
            record_skip(session, row.campaign_id, row.participant_id, at=now,
                        reason="breaker", detail="campaign paused by its circuit breaker")
        put_back(session, call_id, row.participant_id, next_attempt_at=now, now=now)
        return "returned:not_running"
    entry = cached_spec(session, row.campaign_id, row.spec_digest)
    not_callable = _recheck(rt, session, entry, row, call_id, now)
    if not_callable is not None:
        return not_callable
    spec = entry.spec
    claimed = Claimed(call_id=call_id, participant_id=row.participant_id,
                      campaign_id=row.campaign_id, org_id=row.org_id,
                      org_cap=rt.org_cap(row.org_cap),
                      deadline=now + call_deadline(spec.call_handling, grace_s=rt.grace_s),
                      channels=spec.pacing.channels)
    handling = spec.call_handling
    request = CallRequest(
        call_id=call_id, campaign_id=claimed.campaign_id, contact_id=row.contact_id,
        attempt=row.attempt, to=row.to_number, from_number=row.from_number,
        agent_id=row.agent_id, ring_timeout_s=handling.ring_timeout_s,
        max_duration_s=handling.max_duration_s, attributes=dict(row.attributes or {}))
    pacing = spec.pacing
    limits: dict[str, Any] = {
        "calls_per_minute": pacing.calls_per_minute, "spacing_s": float(pacing.spacing_seconds),
        "daily_limit": pacing.daily_limit, "day_key": now.astimezone(spec.zone).date().isoformat()}
    return claimed, request, limits


def _recheck(rt: Runtime, session: Session, entry: CachedSpec, row: Row[Any], call_id: str,
             now: datetime) -> str | None:
    """Eligibility right before placing; when it fails, the call is given back and the
    reason returned."""
    spec = entry.spec
    facts = one_contact_facts(session, spec, row.to_number, row.timezone, org_id=row.org_id,
                              now=now, on_dnc=row.on_dnc, caps=rt.caps)
    verdict = check_contact(now=now, rules=entry.rules, facts=facts,
                            respect_dnc=spec.safety.respect_dnc)
    if verdict.callable:
        return None
    record_skip(session, row.campaign_id, row.participant_id, at=now,
                reason=verdict.reason or "", detail="checked before place_call")
    if verdict.reason == "dnc":
        drop_number(session, call_id, row.participant_id, status=verdict.status or P.SKIPPED,
                    reason="dnc", now=now)
    elif verdict.action == "skip":
        drop(session, call_id, row.participant_id, status=verdict.status or P.SKIPPED,
             reason=verdict.reason, now=now)
    else:
        put_back(session, call_id, row.participant_id, next_attempt_at=verdict.until or now,
                 now=now)
    return f"returned:{verdict.reason}"


def _at_frequency_cap(session: Session, rt: Runtime, claimed: Claimed, phone: str,
                      now: datetime) -> bool:
    """Count and mark under a per-number lock, so two campaigns cannot both take the last slot."""
    calls.lock_number(session, phone)
    until = cap_reached_until(session, [phone], org_id=claimed.org_id, now=now,
                              caps=rt.caps).get(phone)
    if until is None:
        return False
    record_skip(session, claimed.campaign_id, claimed.participant_id, at=now,
                reason="frequency_cap", detail=f"until {until.isoformat()}")
    put_back(session, claimed.call_id, claimed.participant_id, next_attempt_at=until, now=now)
    return True


def _return_to_tick(session: Session, claimed: Claimed, now: datetime) -> None:
    put_back(session, claimed.call_id, claimed.participant_id, next_attempt_at=now, now=now)
    session.commit()


def _requeue_for_pacing(rt: Runtime, session: Session, claimed: Claimed, now: datetime,
                        retry_at_s: float | None, reason: str | None) -> str:
    wait_s = (retry_at_s - now.timestamp()) if retry_at_s is not None else None
    if wait_s is None or wait_s > SHORT_RETRY_S:
        _return_to_tick(session, claimed, now)
        return f"returned:{reason}"
    calls.requeue(session, claimed.call_id, dispatch_at=now + timedelta(seconds=wait_s))
    session.commit()
    rt.dispatcher.send_dial(claimed.call_id, countdown_s=rt.clock.real_seconds(wait_s))
    return f"requeued:{reason}"
