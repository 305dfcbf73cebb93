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
claimed. A worker dying before the commit leaves the call queued, as if its
task were lost: the sweep sends it again, and the dial that follows
re-acquires the same call's lease (a lease is keyed by call id). If the
campaign is paused first, that lease just runs out at the call's deadline;
it only ever errs towards fewer calls. The claim also takes the lease gate
shared (``leasing.LEASE_GATE``), so a rebuild after a Redis wipe waits for
this transaction and counts its channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.eligibility import check_contact
from dialer.phones import mask
from dialer.provider import CallRequest
from dialer.service.connections import joined_session, rowcount
from dialer.service.leasing import LEASE_GATE
from dialer.service.provider_call import Refused, Unknown, place_with_timeout
from dialer.service.runtime import Runtime
from dialer.service.spec_cache import SPEC_DIGEST_SQL, cached_spec
from dialer.service.steps import campaign_state
from dialer.service.targets import cap_reached_until, one_contact_facts
from dialer.statuses import ParticipantStatus as P
from dialer.store.events import record_skip

log = logging.getLogger(__name__)

# A pacing retry closer than this (simulated seconds) rides a countdown;
# anything longer goes back to the tick (no long ETAs on Redis).
SHORT_RETRY_S = 60.0

# The claim. The deadline is the one tick.call_deadline computes (ring timeout
# + max duration + grace, from now), written here because the lease taken next
# expires with it: a lease rebuilt from PostgreSQL after a Redis wipe must get
# the same expiry. The two field names are the spec's (docs/spec.md), fixed.
_CLAIM = text(f"""
    WITH gate AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(:gate_class, :gate_key))
    UPDATE calls AS k SET status = 'dialing',
        deadline_at = :now + make_interval(secs =>
            (c.spec -> 'call_handling' ->> 'ring_timeout_s')::float8
            + (c.spec -> 'call_handling' ->> 'max_duration_s')::float8 + :grace_s)
    FROM campaigns AS c, gate
    WHERE k.id = :call_id AND k.status = 'queued' AND c.id = k.campaign_id
    RETURNING k.participant_id, k.campaign_id, k.contact_id, k.attempt, k.to_number,
        k.from_number, k.deadline_at, c.status, c.deleted_at, c.pause_reason, c.channels,
        c.agent_id, {SPEC_DIGEST_SQL} AS spec_digest,
        (SELECT ct.timezone FROM contacts ct WHERE ct.id = k.contact_id) AS timezone,
        (SELECT ct.attributes FROM contacts ct WHERE ct.id = k.contact_id) AS attributes,
        EXISTS (SELECT 1 FROM dnc WHERE dnc.phone = k.to_number) AS on_dnc
""")

# Conditional: a sweep may have returned this call while we waited on Redis.
_MARK_PLACED = text("""
    WITH marked AS (
        UPDATE calls SET placed_at = :now
        WHERE id = :call_id AND status = 'dialing' AND placed_at IS NULL
        RETURNING participant_id)
    UPDATE participants AS p SET last_attempt_at = :now, updated_at = :now,
        -- A late answer to an earlier attempt may have completed the contact while
        -- this call was being claimed (results.reconcile_late_result): it stays so.
        status = CASE WHEN p.status IN ('queued', 'dialing') THEN 'dialing' ELSE p.status END
    FROM marked WHERE p.id = marked.participant_id
    RETURNING p.id
""")

# The result may already have ended the call: keep 'ended', record the id anyway.
_PROVIDER_ID = text("""
    UPDATE calls SET provider_call_id = :provider_call_id,
        status = CASE WHEN status = 'dialing' THEN 'placed' ELSE status END
    WHERE id = :call_id
""")


@dataclass(frozen=True)
class Claimed:
    call_id: str
    participant_id: int
    campaign_id: str
    deadline: datetime
    channels: int


def dial(rt: Runtime, call_id: str) -> str:
    """Returns what happened, for logs and tests: placed, failed, requeued, returned, ..."""
    now = rt.clock.now()
    with rt.engine.connect() as conn:
        outcome = _claim_and_check(rt, conn, call_id, now)
        if isinstance(outcome, str):
            conn.commit()
            return outcome
        claimed, request, limits = outcome
        lease = rt.leases.acquire(call_id, campaign_id=claimed.campaign_id,
                                  campaign_limit=claimed.channels,
                                  org_limit=rt.settings.org_channel_cap,
                                  now_s=now.timestamp(),
                                  expires_at_s=claimed.deadline.timestamp())
        if not lease.acquired:
            _return_to_tick(conn, claimed, now)
            return f"returned:{lease.reason}"
        decision = rt.limiter.try_acquire(claimed.campaign_id, call_id, now_s=now.timestamp(),
                                          **limits)
        if not decision.allowed:
            rt.leases.release(call_id, campaign_id=claimed.campaign_id)
            return _requeue_for_pacing(rt, conn, claimed, now, decision.retry_at_s,
                                       decision.reason)
        if rt.caps.active and _at_frequency_cap(conn, rt, claimed, request.to, now):
            conn.commit()
            rt.leases.release(call_id, campaign_id=claimed.campaign_id)
            return "returned:frequency_cap"
        marked = conn.execute(_MARK_PLACED, {"call_id": call_id, "now": now}).first()
        conn.commit()
        if marked is None:  # cannot happen while we hold the claim; kept as a guard
            rt.leases.release(call_id, campaign_id=claimed.campaign_id)
            return "lost_claim"

        log.info("placing call %s attempt %d to %s", call_id, request.attempt, mask(request.to))
        answer = place_with_timeout(
            rt.provider, request, timeout_s=rt.settings.provider_timeout_s,
            on_late=lambda provider_call_id: _record_provider_id(rt, call_id, provider_call_id))
        if isinstance(answer, Refused):
            return _unplace(rt, conn, claimed, answer)
        if isinstance(answer, Unknown):
            # Perhaps ringing: the call keeps its channel and its attempt, and the
            # sweep closes it as failed at its deadline unless a result comes first
            # (docs/contract.md §4: outcome failed). Only then may the contact be called again.
            return f"unknown:{answer.why}"
        conn.execute(_PROVIDER_ID, {"call_id": call_id,
                                    "provider_call_id": answer.provider_call_id[:200]})
        conn.commit()
    return "placed"


def _record_provider_id(rt: Runtime, call_id: str, provider_call_id: str) -> None:
    """A provider that answered after the dial stopped waiting: keep its id (status as is)."""
    with rt.engine.begin() as conn:
        conn.execute(_PROVIDER_ID, {"call_id": call_id,
                                    "provider_call_id": provider_call_id[:200]})


# Only a call nobody has a result or a provider id for: the provider refused it.
_UNPLACE = text("""
    DELETE FROM calls WHERE id = :id AND status = 'dialing' AND provider_call_id IS NULL
""")


def _unplace(rt: Runtime, conn: Connection, claimed: Claimed, refused: Refused) -> str:
    """The provider certainly did not place the call: undo it, attempt not counted."""
    now = rt.clock.now()  # place_call may have taken a while
    # Retry-after is the provider's, in real seconds (like HTTP Retry-After).
    wait_s = rt.clock.time_scale * max(0.0, refused.retry_after_s or 0.0)
    # Executed on the connection first: it begins the transaction the session joins.
    if conn.execute(_UNPLACE, {"id": claimed.call_id}).rowcount:
        with joined_session(conn) as session:
            campaign_state.restore_after_putback(
                session, [claimed.participant_id],
                next_attempt_at=now + timedelta(seconds=wait_s), now=now)
            record_skip(session, claimed.campaign_id, claimed.participant_id, at=now,
                        reason="provider_refused", detail=refused.reason[:200])
    conn.commit()
    rt.leases.release(claimed.call_id, campaign_id=claimed.campaign_id)
    log.info("provider refused call %s before placing it: put back", claimed.call_id)
    return "returned:provider_refused"


def _claim_and_check(
    rt: Runtime, conn: Connection, call_id: str, now: datetime,
) -> str | tuple[Claimed, CallRequest, dict[str, Any]]:
    """Claim the call and re-check it; a string says why it goes no further."""
    row = conn.execute(_CLAIM, {"call_id": call_id, "now": now, "grace_s": rt.grace_s,
                                **LEASE_GATE}).first()
    if row is None:
        return "not_queued"
    claimed = Claimed(call_id=call_id, participant_id=row.participant_id,
                      campaign_id=row.campaign_id, deadline=row.deadline_at,
                      channels=row.channels)
    if row.status != st.CampaignStatus.RUNNING or row.deleted_at is not None:
        with joined_session(conn) as session:
            if row.pause_reason == "circuit_breaker":
                record_skip(session, claimed.campaign_id, claimed.participant_id, at=now,
                            reason="breaker", detail="campaign paused by its circuit breaker")
            put_back(session, call_id, claimed.participant_id, next_attempt_at=now, now=now)
        return "returned:not_running"
    entry = cached_spec(conn, claimed.campaign_id, row.spec_digest)
    spec = entry.spec
    facts = one_contact_facts(conn, spec, row.to_number, row.timezone, now=now,
                              on_dnc=row.on_dnc, caps=rt.caps)
    verdict = check_contact(now=now, rules=entry.rules, facts=facts,
                            respect_dnc=spec.safety.respect_dnc)
    if not verdict.callable:
        with joined_session(conn) as session:
            record_skip(session, claimed.campaign_id, claimed.participant_id, at=now,
                        reason=verdict.reason or "", detail="checked before place_call")
            if verdict.action == "skip":
                drop(session, call_id, claimed.participant_id,
                     status=verdict.status or P.SKIPPED, reason=verdict.reason, now=now)
            else:
                put_back(session, call_id, claimed.participant_id,
                         next_attempt_at=verdict.until or now, now=now)
            return f"returned:{verdict.reason}"
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


def _at_frequency_cap(conn: Connection, rt: Runtime, claimed: Claimed, phone: str,
                      now: datetime) -> bool:
    """Count and mark under a per-number lock, so two campaigns cannot both take the last slot."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:phone))"), {"phone": phone})
    with joined_session(conn) as session:
        until = cap_reached_until(session, [phone], now=now, caps=rt.caps).get(phone)
        if until is None:
            return False
        record_skip(session, claimed.campaign_id, claimed.participant_id, at=now,
                    reason="frequency_cap", detail=f"until {until.isoformat()}")
        put_back(session, claimed.call_id, claimed.participant_id, next_attempt_at=until,
                 now=now)
    return True


def put_back(session: Session, call_id: str, participant_id: int, *,
             next_attempt_at: datetime, now: datetime) -> None:
    """Undo a queued attempt that was never placed: the contact waits again."""
    deleted = rowcount(session.execute(
        text("DELETE FROM calls WHERE id = :id AND placed_at IS NULL"), {"id": call_id}))
    if not deleted:
        return
    campaign_state.restore_after_putback(session, [participant_id],
                                           next_attempt_at=next_attempt_at, now=now)


def drop(session: Session, call_id: str, participant_id: int, *, status: str,
         reason: str | None, now: datetime) -> None:
    """The contact may never be called (DNC, recently completed): end it."""
    deleted = rowcount(session.execute(
        text("DELETE FROM calls WHERE id = :id AND placed_at IS NULL"), {"id": call_id}))
    if not deleted:
        return
    session.execute(text("""
        UPDATE participants SET status = :status, attempts = attempts - 1,
            skip_reason = :reason, next_attempt_at = NULL, updated_at = :now
        WHERE id = :id"""), {"status": status, "reason": reason, "now": now,
                             "id": participant_id})


def _return_to_tick(conn: Connection, claimed: Claimed, now: datetime) -> None:
    with joined_session(conn) as session:
        put_back(session, claimed.call_id, claimed.participant_id, next_attempt_at=now, now=now)
    conn.commit()


def _requeue_for_pacing(rt: Runtime, conn: Connection, claimed: Claimed, now: datetime,
                        retry_at_s: float | None, reason: str | None) -> str:
    wait_s = (retry_at_s - now.timestamp()) if retry_at_s is not None else None
    if wait_s is None or wait_s > SHORT_RETRY_S:
        _return_to_tick(conn, claimed, now)
        return f"returned:{reason}"
    conn.execute(text("""
        UPDATE calls SET status = 'queued', dispatch_at = :dispatch_at
        WHERE id = :id AND placed_at IS NULL"""),
        {"id": claimed.call_id, "dispatch_at": now + timedelta(seconds=wait_s)})
    conn.commit()
    rt.dispatcher.send_dial(claimed.call_id, countdown_s=rt.clock.real_seconds(wait_s))
    return f"requeued:{reason}"
