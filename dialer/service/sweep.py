"""The sweep: repair what crashes, lost messages and wiped Redis leave behind.

- calls with no result past their deadline are closed as ``failed``;
- calls claimed by a worker that died before placing go back to their contacts;
- queued calls whose dial task vanished are sent again (dial is idempotent);
- leases are rebuilt from PostgreSQL when Redis lost them;
- running campaigns with nothing left are completed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer import statuses as st
from dialer.service.isolation import isolated
from dialer.service.leasing import ensure_leases_ready
from dialer.service.runtime import Runtime
from dialer.service.steps import campaign_state, settle
from dialer.service.steps.call_return import put_back
from dialer.store import calls
from dialer.store import dispatch as store

log = logging.getLogger(__name__)

# Real seconds a queued or claimed call may wait before we assume its task
# was lost; converted to simulated time with the clock's scale.
STALE_REAL_S = 20.0


@dataclass
class SweepReport:
    timed_out: int = 0
    reclaimed: int = 0
    resent: int = 0
    leases_rebuilt: bool = False
    results_redelivered: int = 0


def sweep(rt: Runtime, *, batch: int = 500) -> SweepReport:
    now = rt.clock.now()
    report = SweepReport()
    report.leases_rebuilt = ensure_leases_ready(rt, now)
    stale_before = now - timedelta(seconds=STALE_REAL_S * rt.clock.time_scale)
    with rt.unit_of_work() as session:
        overdue = calls.overdue(session, now=now, batch=batch)
    for call_id, campaign_id in overdue:
        # A campaign whose result cannot be recorded (its spec no longer parses) is
        # recorded as failing; the other campaigns' calls are still closed.
        with isolated(rt, campaign_id, step="sweep", now=now):
            if _close_at_deadline(rt, call_id):
                report.timed_out += 1
    with rt.transaction() as session:
        # Claimed but never marked placed: the worker died between claim and place.
        orphans = calls.lock_orphaned_claims(session, before=stale_before, batch=batch)
        for orphan in orphans:
            rt.leases.release(orphan.id, campaign_id=orphan.campaign_id, org_id=orphan.org_id)
            put_back(session, orphan.id, orphan.participant_id, next_attempt_at=now, now=now)
        report.reclaimed = len(orphans)
    with rt.transaction() as session:
        resend = calls.touch_lost_queued(session, before=stale_before, now=now, batch=batch)
    for call_id in resend:
        rt.dispatcher.send_dial(call_id)
    report.resent = len(resend)
    poll = getattr(rt.provider, "poll", None)
    if callable(poll):
        # A provider may owe results (a lost webhook, a dead worker's countdown).
        report.results_redelivered = poll(now=now, open_calls=lambda ids: _open_calls(rt, ids))
    with rt.unit_of_work() as session:
        running = store.running_campaigns(session)
    for campaign_id in running:
        with isolated(rt, campaign_id, step="sweep", now=now), rt.transaction() as session:
            campaign_state.complete_if_done(session, campaign_id, now=now)
    if report.timed_out or report.reclaimed or report.resent or report.results_redelivered:
        log.info("sweep: %s", report)
    return report


def _close_at_deadline(rt: Runtime, call_id: str) -> bool:
    """Close a silent call as ``failed``, marked so that a late result is reconciled."""
    now: datetime = rt.clock.now()
    with rt.unit_of_work() as session:
        ended = settle.end_call(rt, session, call_id, outcome=st.Outcome.FAILED,
                                detail=settle.DEADLINE_DETAIL, now=now)
        if ended is None:  # its result came first
            settle.release_if_ended(rt, session, call_id)
            return False
        session.commit()
    settle.after_commit(rt, ended, now=now)
    return True


def _open_calls(rt: Runtime, call_ids: list[str]) -> set[str]:
    with rt.unit_of_work() as session:
        return calls.holding_channel(session, call_ids)
