"""Dial one queued call: claim it, re-check everything, hold a channel, place it.

Every step is conditional on the call's status in PostgreSQL, so a dial
task delivered twice, or late, places at most one call.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import case, select, text, update
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.calendar import CallingRules
from dialer.eligibility import check_contact
from dialer.phones import mask
from dialer.provider import CallRequest
from dialer.service import campaigns as campaign_service
from dialer.service.events import record_skip
from dialer.service.results import record_result
from dialer.service.runtime import Runtime
from dialer.service.targets import cap_reached_until, facts_for
from dialer.statuses import Participant as P
from models.db import transaction
from models.tables import Call, Campaign, Contact, Participant

log = logging.getLogger(__name__)

# A pacing retry closer than this (simulated seconds) rides a countdown;
# anything longer goes back to the tick (no long ETAs on Redis).
SHORT_RETRY_S = 60.0


def dial(rt: Runtime, call_id: str) -> str:
    """Returns what happened, for logs and tests: placed, failed, requeued, returned, ..."""
    now = rt.clock.now()
    with transaction(rt.sessions) as session:
        call = session.execute(
            update(Call).where(Call.id == call_id, Call.status == st.Call.QUEUED)
            .values(status=st.Call.DIALING).returning(Call)).scalar_one_or_none()
        if call is None:
            return "not_queued"
        campaign, timezone, attributes = session.execute(
            select(Campaign, Contact.timezone, Contact.attributes)
            .join(Contact, Contact.id == call.contact_id)
            .where(Campaign.id == call.campaign_id)).one()
        if campaign.status != st.RUNNING or campaign.deleted_at is not None:
            if campaign.pause_reason == "circuit_breaker":
                record_skip(session, campaign.id, call.participant_id, at=now, reason="breaker",
                            detail="campaign paused by its circuit breaker")
            put_back(session, call, next_attempt_at=now, now=now)
            return "returned:not_running"
        spec = campaign_service.campaign_spec(campaign)
        rules = CallingRules(schedule=spec.schedule, campaign_timezone=spec.timezone,
                             business_hours_guard=spec.safety.business_hours_guard)
        facts = facts_for(session, spec, [(call.to_number, timezone)], now=now,
                          caps=rt.caps)[call.to_number]
        verdict = check_contact(now=now, rules=rules, facts=facts,
                                respect_dnc=spec.safety.respect_dnc)
        if not verdict.callable:
            record_skip(session, campaign.id, call.participant_id, at=now,
                        reason=verdict.reason or "", detail="checked before place_call")
            if verdict.action == "skip":
                drop(session, call, status=verdict.status or P.SKIPPED,
                     reason=verdict.reason, now=now)
            else:
                put_back(session, call, next_attempt_at=verdict.until or now, now=now)
            return f"returned:{verdict.reason}"
        deadline = now + timedelta(seconds=spec.call_handling.ring_timeout_s
                                   + spec.call_handling.max_duration_s + rt.grace_s)
        call.deadline_at = deadline
        request = CallRequest(
            call_id=call.id, campaign_id=campaign.id, contact_id=call.contact_id,
            attempt=call.attempt, to=call.to_number, from_number=call.from_number,
            agent_id=campaign.agent_id, ring_timeout_s=spec.call_handling.ring_timeout_s,
            max_duration_s=spec.call_handling.max_duration_s, attributes=dict(attributes or {}))
        campaign_limit = campaign.channels
        pacing = spec.pacing
        day_key = now.astimezone(spec.zone).date().isoformat()

    # The channel is taken just before placing; the DB claim above already
    # makes this call ours, so a duplicate task cannot get here.
    lease = rt.leases.acquire(call_id, campaign_id=request.campaign_id,
                              campaign_limit=campaign_limit,
                              org_limit=rt.settings.org_channel_cap,
                              now_s=now.timestamp(), expires_at_s=deadline.timestamp())
    if not lease.acquired:
        _return_to_tick(rt, call_id, now)
        return f"returned:{lease.reason}"
    decision = rt.limiter.try_acquire(
        request.campaign_id, call_id, now_s=now.timestamp(),
        calls_per_minute=pacing.calls_per_minute, spacing_s=float(pacing.spacing_seconds),
        daily_limit=pacing.daily_limit, day_key=day_key)
    if not decision.allowed:
        rt.leases.release(call_id, campaign_id=request.campaign_id)
        return _requeue_for_pacing(rt, call_id, now, decision.retry_at_s, decision.reason)

    with transaction(rt.sessions) as session:
        if rt.caps.active and _at_frequency_cap(session, rt, call_id, request.to, now):
            rt.leases.release(call_id, campaign_id=request.campaign_id)
            return "returned:frequency_cap"
        # Conditional: a sweep may have returned this call while we waited.
        marked = session.execute(
            update(Call).where(Call.id == call_id, Call.status == st.Call.DIALING)
            .values(placed_at=now).returning(Call.participant_id)).first()
        if marked is None:
            rt.leases.release(call_id, campaign_id=request.campaign_id)
            return "lost_claim"
        session.execute(update(Participant).where(Participant.id == marked[0]).values(
            status=P.DIALING, last_attempt_at=now, updated_at=now))

    log.info("placing call %s attempt %d to %s", call_id, request.attempt, mask(request.to))
    try:
        provider_call_id = rt.provider.place_call(request)
    except Exception as exc:  # any provider error means: not placed
        log.warning("provider could not place call %s: %s", call_id, type(exc).__name__)
        record_result(rt, call_id, outcome=st.Outcome.FAILED, duration_s=0.0,
                      goal_achieved=None, detail=f"provider error: {exc}"[:500])
        return "failed"
    with transaction(rt.sessions) as session:
        # The result may already have ended the call: keep 'ended', record the id anyway.
        session.execute(update(Call).where(Call.id == call_id).values(
            provider_call_id=str(provider_call_id)[:200],
            status=case((Call.status == st.Call.DIALING, st.Call.PLACED), else_=Call.status)))
    return "placed"


def _at_frequency_cap(session: Session, rt: Runtime, call_id: str, phone: str,
                      now: datetime) -> bool:
    """Count and mark under a per-number lock, so two campaigns cannot both take the last slot."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:phone))"), {"phone": phone})
    until = cap_reached_until(session, [phone], now=now, caps=rt.caps).get(phone)
    if until is None:
        return False
    call = session.get(Call, call_id)
    if call is not None and call.status == st.Call.DIALING and call.placed_at is None:
        record_skip(session, call.campaign_id, call.participant_id, at=now,
                    reason="frequency_cap", detail=f"until {until.isoformat()}")
        put_back(session, call, next_attempt_at=until, now=now)
    return True


def put_back(session: Session, call: Call, *, next_attempt_at: datetime, now: datetime) -> None:
    """Undo a queued attempt that was never placed: the contact waits again."""
    deleted = session.execute(text("DELETE FROM calls WHERE id = :id AND placed_at IS NULL"),
                              {"id": call.id}).rowcount
    if not deleted:
        return
    campaign_service.restore_after_putback(session, [call.participant_id],
                                           next_attempt_at=next_attempt_at, now=now)


def drop(session: Session, call: Call, *, status: str, reason: str | None, now: datetime) -> None:
    """The contact may never be called (DNC, recently completed): end it."""
    deleted = session.execute(text("DELETE FROM calls WHERE id = :id AND placed_at IS NULL"),
                              {"id": call.id}).rowcount
    if not deleted:
        return
    session.execute(update(Participant).where(Participant.id == call.participant_id).values(
        status=status, attempts=Participant.attempts - 1, skip_reason=reason,
        next_attempt_at=None, updated_at=now))


def _return_to_tick(rt: Runtime, call_id: str, now: datetime) -> None:
    with transaction(rt.sessions) as session:
        call = session.scalar(select(Call).where(Call.id == call_id,
                                                 Call.status == st.Call.DIALING,
                                                 Call.placed_at.is_(None)))
        if call is not None:
            put_back(session, call, next_attempt_at=now, now=now)


def _requeue_for_pacing(rt: Runtime, call_id: str, now: datetime, retry_at_s: float | None,
                        reason: str | None) -> str:
    wait_s = (retry_at_s - now.timestamp()) if retry_at_s is not None else None
    if wait_s is None or wait_s > SHORT_RETRY_S:
        _return_to_tick(rt, call_id, now)
        return f"returned:{reason}"
    with transaction(rt.sessions) as session:
        requeued = session.execute(
            update(Call).where(Call.id == call_id, Call.status == st.Call.DIALING,
                               Call.placed_at.is_(None))
            .values(status=st.Call.QUEUED, dispatch_at=now + timedelta(seconds=wait_s))
            .returning(Call.id)).first()
    if requeued is not None:
        rt.dispatcher.send_dial(call_id, countdown_s=rt.clock.real_seconds(wait_s))
    return f"requeued:{reason}"
