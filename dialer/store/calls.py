"""Call rows on the dispatch path: claimed, placed, ended, put back, swept.

The dial and the result run one statement per step on the session's
connection (Core, no ORM identity map: this is the hottest path); each
statement is conditional on the call's status, so a replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from dialer.provider import NO_EXTRAS, ResultExtras
from dialer.statuses import CALL_HOLDING_CHANNEL, CALL_IN_FLIGHT, Outcome
from dialer.statuses import CallStatus as K
from dialer.statuses import ParticipantStatus as P
from dialer.store.participants import due_by
from dialer.store.sql import SPEC_DIGEST, rowcount, run_core
from models.tables import Call

# The claim also reads everything the re-check before ``place_call`` needs
# (campaign columns, the contact, DNC membership, the spec's digest for the
# per-process spec cache), and takes the lease gate shared (store.leases).
# It locks the campaign's row FOR KEY SHARE before the call's (ARCHITECTURE.md,
# "Locks"): marking the call placed takes that lock anyway (the call's foreign
# key is checked again, the claim having updated the row), and taken only then,
# after the call's, it deadlocked with a stop, pause or failure holding the row
# and withdrawing the queued calls. A change committed while the claim waited is
# what the claim reads (the locked row is the current one).
_CLAIM = text(f"""
    WITH gate AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(:gate_class, :gate_key)),
    c AS MATERIALIZED (
        SELECT id, status, deleted_at, pause_reason, agent_id, org_id, spec FROM campaigns
        WHERE id = (SELECT campaign_id FROM calls WHERE id = :call_id AND status = :queued)
        FOR KEY SHARE)
    UPDATE calls AS k SET status = :dialing
    FROM c, gate
    WHERE k.id = :call_id AND k.status = :queued AND c.id = k.campaign_id
    RETURNING k.participant_id, k.campaign_id, k.contact_id, k.attempt, k.to_number,
        k.from_number, c.status, c.deleted_at, c.pause_reason, c.agent_id, c.org_id,
        (SELECT o.channel_cap FROM organisations o WHERE o.id = c.org_id) AS org_cap,
        {SPEC_DIGEST} AS spec_digest,
        (SELECT ct.timezone FROM contacts ct WHERE ct.id = k.contact_id) AS timezone,
        (SELECT ct.attributes FROM contacts ct WHERE ct.id = k.contact_id) AS attributes,
        EXISTS (SELECT 1 FROM dnc WHERE dnc.org_id = c.org_id AND dnc.phone = k.to_number)
            AS on_dnc
""")

# Conditional: a sweep may have returned this call while the dial waited on Redis.
# The deadline is written here, with the placement, because the lease taken
# before expires with it: a lease rebuilt from PostgreSQL after a Redis wipe
# gets the same expiry (the dial holds the lease gate until this commits).
_MARK_PLACED = text("""
    WITH marked AS (
        UPDATE calls SET placed_at = :now, deadline_at = :deadline
        WHERE id = :call_id AND status = :dialing AND placed_at IS NULL
        RETURNING participant_id)
    UPDATE participants AS p SET last_attempt_at = :now, updated_at = :now,
        -- A late answer to an earlier attempt may have completed the contact while
        -- this call was being claimed (results.reconcile_late_result): it stays so.
        status = CASE WHEN p.status = ANY(:claimed) THEN :p_dialing ELSE p.status END
    FROM marked WHERE p.id = marked.participant_id
    RETURNING p.id
""")

# The result may already have ended the call: keep 'ended', record the id anyway.
_PROVIDER_ID = text("""
    UPDATE calls SET provider_call_id = :provider_call_id,
        status = CASE WHEN status = :dialing THEN :placed ELSE status END
    WHERE id = :call_id
""")

# Only a call nobody has a result or a provider id for: the provider refused it.
_DELETE_REFUSED = text("""
    DELETE FROM calls WHERE id = :id AND status = :dialing AND provider_call_id IS NULL
""")

_DELETE_UNPLACED = text("DELETE FROM calls WHERE id = :id AND placed_at IS NULL")

_REQUEUE = text("""
    UPDATE calls SET status = :queued, dispatch_at = :dispatch_at
    WHERE id = :id AND placed_at IS NULL
""")

# Ending the call also reads (and locks) its participant and what the retry
# policy and the refill decision need; the campaign's row is held FOR KEY
# SHARE until the commit (a stop waits for this result or goes first). That
# row is locked before the call's (ARCHITECTURE.md, "Locks"): taken after it,
# the result deadlocked with a failure of the campaign, which holds the row
# and closes the calls holding a channel.
_END_CALL = text(f"""
    WITH campaign AS MATERIALIZED (
        SELECT id FROM campaigns
        WHERE id = (SELECT campaign_id FROM calls
                    WHERE id = :call_id AND status = ANY(:holding))
        FOR KEY SHARE),
    ended AS (
        UPDATE calls SET status = :ended, outcome = :outcome, ended_at = :now,
            duration_s = :duration_s, goal_achieved = :goal_achieved, detail = :detail,
            recording_url = :recording_url, transcript_url = :transcript_url, cost = :cost
        WHERE id = :call_id AND status = ANY(:holding) AND placed_at IS NOT NULL
          AND EXISTS (SELECT FROM campaign)
        RETURNING participant_id, campaign_id, attempt)
    SELECT e.participant_id, e.campaign_id, e.attempt, c.status AS campaign_status,
        c.org_id, {SPEC_DIGEST} AS spec_digest, p.attempts, p.phone, p.status AS participant_status,
        p.phone_index, p.phone_attempts, p.answered_phone,
        ct.timezone, ct.secondary_phones,
        (SELECT count(*) FROM calls q WHERE q.campaign_id = e.campaign_id
                     AND q.status = ANY(:in_flight)) AS in_flight_before,
        EXISTS (SELECT 1 FROM participants w
                WHERE w.campaign_id = e.campaign_id AND {due_by("w")}) AS due_waiting
    FROM ended e JOIN campaigns c ON c.id = e.campaign_id
        JOIN participants p ON p.id = e.participant_id
        JOIN contacts ct ON ct.id = p.contact_id
    FOR UPDATE OF p FOR KEY SHARE OF c
""")

_RECONCILE = text(f"""
    WITH fixed AS (
        UPDATE calls SET outcome = :outcome, duration_s = :duration_s,
            goal_achieved = :goal_achieved, detail = :detail,
            recording_url = :recording_url, transcript_url = :transcript_url, cost = :cost
        WHERE id = :call_id AND status = :ended AND outcome = :failed
          AND detail = :timed_out
        RETURNING participant_id, campaign_id, attempt, cycle, to_number)
    SELECT f.participant_id, f.campaign_id, f.attempt, f.cycle, f.to_number,
        c.status AS campaign_status,
        {SPEC_DIGEST} AS spec_digest, p.cycle AS participant_cycle
    FROM fixed f JOIN campaigns c ON c.id = f.campaign_id
        JOIN participants p ON p.id = f.participant_id
    FOR KEY SHARE OF c
""")

# A retry queued but not claimed by a dial yet (one being claimed is skipped:
# it is about to be placed, and counts as placed).
_CANCEL_QUEUED = text("""
    DELETE FROM calls WHERE id IN (
        SELECT id FROM calls WHERE participant_id = :participant_id AND status = :queued
            AND placed_at IS NULL FOR UPDATE SKIP LOCKED)
    RETURNING attempt
""")

_IN_FLIGHT_ATTEMPTS = text("""
    SELECT attempt FROM calls WHERE participant_id = :participant_id
        AND status = ANY(:in_flight) ORDER BY attempt
""")

_ENDED_IN = text("""
    SELECT k.campaign_id, c.org_id FROM calls k JOIN campaigns c ON c.id = k.campaign_id
    WHERE k.id = :call_id AND k.status = :ended
""")

_RESEND_LOST = text("""
    UPDATE calls SET dispatch_at = :now WHERE id IN (
        SELECT id FROM calls WHERE status = :queued AND dispatch_at < :before
        LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING id
""")

_ORPHANED = text("""
    SELECT k.id, k.campaign_id, k.participant_id,
        (SELECT c.org_id FROM campaigns c WHERE c.id = k.campaign_id) AS org_id
    FROM calls k
    WHERE k.status = :dialing AND k.placed_at IS NULL AND k.dispatch_at < :before
    LIMIT :batch FOR UPDATE OF k SKIP LOCKED
""")

_OVERDUE = text("""
    SELECT id, campaign_id FROM calls
    WHERE status = ANY(:holding) AND placed_at IS NOT NULL AND deadline_at < :now
    LIMIT :batch
""")

_HOLDING = text("SELECT id FROM calls WHERE id = ANY(:ids) AND status = ANY(:holding)")

_IN_FLIGHT_COUNTS = text("""
    SELECT count(*) FILTER (WHERE k.campaign_id = :campaign_id), count(*)
    FROM calls k JOIN campaigns c ON c.id = k.campaign_id
    WHERE k.status = ANY(:in_flight)
      AND c.org_id = :org_id
""")

_PLACED_OR_QUEUED_SINCE = text("""
    SELECT count(*) FROM calls WHERE campaign_id = :campaign_id
        AND (placed_at >= :since OR status = :queued)
""")

_LOCK_NUMBER = text("SELECT pg_advisory_xact_lock(hashtext(:phone))")

_HOLDING_WORDS = list(CALL_HOLDING_CHANNEL)
_IN_FLIGHT_WORDS = list(CALL_IN_FLIGHT)
_CLAIMED_WORDS = [P.QUEUED, P.DIALING]



# -- the dial -------------------------------------------------------------------------------

def claim(session: Session, call_id: str, *, gate: dict[str, int]) -> Row[Any] | None:
    """Move a queued call to dialing; None when it is not queued (a duplicate task)."""
    return run_core(session, _CLAIM, {"call_id": call_id, "dialing": K.DIALING,
                                  "queued": K.QUEUED, **gate}).first()


def mark_placed(session: Session, call_id: str, *, deadline: datetime, now: datetime) -> bool:
    """Mark the claimed call placed (and its participant dialing); False if it was not."""
    return run_core(session, _MARK_PLACED, {
        "call_id": call_id, "now": now, "deadline": deadline, "dialing": K.DIALING,
        "claimed": _CLAIMED_WORDS, "p_dialing": P.DIALING}).first() is not None


def record_provider_id(session: Session, call_id: str, provider_call_id: str) -> None:
    run_core(session, _PROVIDER_ID, {"call_id": call_id, "provider_call_id": provider_call_id[:200],
                                 "dialing": K.DIALING, "placed": K.PLACED})


def delete_refused(session: Session, call_id: str) -> bool:
    return bool(rowcount(run_core(session, _DELETE_REFUSED, {"id": call_id, "dialing": K.DIALING})))


def delete_unplaced(session: Session, call_id: str) -> bool:
    return bool(rowcount(run_core(session, _DELETE_UNPLACED, {"id": call_id})))


def requeue(session: Session, call_id: str, *, dispatch_at: datetime) -> None:
    run_core(session, _REQUEUE, {"id": call_id, "queued": K.QUEUED, "dispatch_at": dispatch_at})


def lock_number(session: Session, phone: str) -> None:
    """Serialise placements to one number (frequency caps across campaigns)."""
    run_core(session, _LOCK_NUMBER, {"phone": phone})


# -- the result -----------------------------------------------------------------------------

def end(session: Session, call_id: str, *, outcome: str, duration_s: float,
        goal_achieved: bool | None, detail: str | None, due_by_at: datetime,
        now: datetime, extras: ResultExtras = NO_EXTRAS) -> Row[Any] | None:
    """End a call holding a channel; None for a replay or an unknown id."""
    return run_core(session, _END_CALL, {
        "call_id": call_id, "outcome": outcome, "now": now, "due_by": due_by_at,
        "duration_s": duration_s, "goal_achieved": goal_achieved, "detail": detail,
        **extras.columns(),
        "ended": K.ENDED, "holding": _HOLDING_WORDS, "in_flight": _IN_FLIGHT_WORDS}).first()


def reconcile(session: Session, call_id: str, *, outcome: str, duration_s: float,
              goal_achieved: bool | None, detail: str | None,
              timed_out: str, extras: ResultExtras = NO_EXTRAS) -> Row[Any] | None:
    """Give a call closed at its deadline (detail ``timed_out``) its real outcome."""
    return run_core(session, _RECONCILE, {
        "call_id": call_id, "outcome": outcome, "duration_s": duration_s, **extras.columns(),
        "goal_achieved": goal_achieved, "detail": detail, "timed_out": timed_out,
        "ended": K.ENDED, "failed": Outcome.FAILED}).first()


def cancel_queued_retry(session: Session, participant_id: int) -> list[int]:
    """Delete the participant's queued, unclaimed calls; their attempt numbers."""
    return [r.attempt for r in run_core(session, _CANCEL_QUEUED, {
        "participant_id": participant_id, "queued": K.QUEUED})]


def in_flight_attempts(session: Session, participant_id: int) -> list[int]:
    return [r.attempt for r in run_core(session, _IN_FLIGHT_ATTEMPTS, {
        "participant_id": participant_id, "in_flight": _IN_FLIGHT_WORDS})]


def ended_in(session: Session, call_id: str) -> tuple[str, str] | None:
    """(campaign_id, org_id) of an ended call; None when there is no such ended call."""
    row = run_core(session, _ENDED_IN, {"call_id": call_id, "ended": K.ENDED}).first()
    return None if row is None else (row.campaign_id, row.org_id)


# -- the tick -------------------------------------------------------------------------------

def in_flight_counts(session: Session, campaign_id: str, org_id: str) -> tuple[int, int]:
    """Calls in flight for the campaign and across its organisation's campaigns."""
    campaign, org = run_core(session, _IN_FLIGHT_COUNTS, {
        "campaign_id": campaign_id, "org_id": org_id, "in_flight": _IN_FLIGHT_WORDS}).one()
    return int(campaign), int(org)


def placed_or_queued_since(session: Session, campaign_id: str, since: datetime) -> int:
    return int(run_core(session, _PLACED_OR_QUEUED_SINCE, {
        "campaign_id": campaign_id, "since": since, "queued": K.QUEUED}).scalar() or 0)


def add_queued(session: Session, *, call_id: str, participant_id: int, campaign_id: str,
               contact_id: int, execution_number: int, cycle: int, attempt: int,
               to_number: str, from_number: str | None, now: datetime, dispatch_at: datetime,
               deadline_at: datetime) -> None:
    """A new queued call (inserted with the tick's flush)."""
    session.add(Call(
        id=call_id, participant_id=participant_id, campaign_id=campaign_id,
        contact_id=contact_id, execution_number=execution_number, cycle=cycle, attempt=attempt,
        status=K.QUEUED, to_number=to_number, from_number=from_number, queued_at=now,
        dispatch_at=dispatch_at, deadline_at=deadline_at))


# -- the sweep ------------------------------------------------------------------------------

def overdue(session: Session, *, now: datetime, batch: int) -> list[tuple[str, str]]:
    """(id, campaign_id) of placed calls holding a channel past their deadline."""
    return [(r.id, r.campaign_id) for r in run_core(session, _OVERDUE, {
        "now": now, "batch": batch, "holding": _HOLDING_WORDS})]


def lock_orphaned_claims(session: Session, *, before: datetime,
                         batch: int) -> Sequence[Row[Any]]:
    """(id, campaign_id, participant_id, org_id) of calls claimed before ``before`` and
    never placed (their worker died), locked."""
    return run_core(session, _ORPHANED, {"before": before, "batch": batch,
                                     "dialing": K.DIALING}).all()


def touch_lost_queued(session: Session, *, before: datetime, now: datetime,
                      batch: int) -> list[str]:
    """Queued calls due before ``before`` (their task vanished): dispatch_at = now; ids."""
    return [r.id for r in run_core(session, _RESEND_LOST, {"before": before, "now": now,
                                                       "batch": batch, "queued": K.QUEUED})]


def holding_channel(session: Session, call_ids: list[str]) -> set[str]:
    """Those of ``call_ids`` that hold a channel (not ended)."""
    return {r.id for r in run_core(session, _HOLDING, {"ids": call_ids, "holding": _HOLDING_WORDS})}
