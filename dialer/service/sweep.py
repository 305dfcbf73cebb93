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
from datetime import timedelta

from sqlalchemy import select

from dialer import statuses as st
from dialer.service.dial import put_back
from dialer.service.isolation import isolated
from dialer.service.leasing import ensure_leases_ready
from dialer.service.results import DEADLINE_DETAIL, record_result
from dialer.service.runtime import Runtime
from dialer.service.steps import campaign_state
from models.db import transaction
from models.tables import Call, Campaign

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
    stale = timedelta(seconds=STALE_REAL_S * rt.clock.time_scale)
    with rt.sessions() as session:
        overdue = session.execute(select(Call.id, Call.campaign_id).where(
            Call.status.in_(st.CALL_HOLDING_CHANNEL), Call.placed_at.is_not(None),
            Call.deadline_at < now).limit(batch)).all()
    for call_id, campaign_id in overdue:
        # A campaign whose result cannot be recorded (its spec no longer parses) is
        # recorded as failing; the other campaigns' calls are still closed.
        with isolated(rt, campaign_id, step="sweep", now=now):
            if record_result(rt, call_id, outcome=st.Outcome.FAILED,
                             detail=DEADLINE_DETAIL) == "recorded":
                report.timed_out += 1
    with transaction(rt.sessions) as session:
        # Claimed but never marked placed: the worker died between claim and place.
        orphans = session.scalars(select(Call).where(
            Call.status == st.CallStatus.DIALING, Call.placed_at.is_(None),
            Call.dispatch_at < now - stale).limit(batch).with_for_update(skip_locked=True)).all()
        for call in orphans:
            rt.leases.release(call.id, campaign_id=call.campaign_id)
            put_back(session, call.id, call.participant_id, next_attempt_at=now, now=now)
        report.reclaimed = len(orphans)
    with transaction(rt.sessions) as session:
        lost = session.scalars(select(Call).where(
            Call.status == st.CallStatus.QUEUED, Call.dispatch_at < now - stale)
            .limit(batch).with_for_update(skip_locked=True)).all()
        for call in lost:
            call.dispatch_at = now
        resend = [call.id for call in lost]
    for call_id in resend:
        rt.dispatcher.send_dial(call_id)
    report.resent = len(resend)
    poll = getattr(rt.provider, "poll", None)
    if callable(poll):
        # A provider may owe results (a lost webhook, a dead worker's countdown).
        report.results_redelivered = poll(now=now, open_calls=lambda ids: _open_calls(rt, ids))
    with rt.sessions() as session:
        running = session.scalars(select(Campaign.id).where(
            Campaign.status == st.CampaignStatus.RUNNING)).all()
    for campaign_id in running:
        with isolated(rt, campaign_id, step="sweep", now=now), \
                transaction(rt.sessions) as session:
            campaign_state.complete_if_done(session, campaign_id, now=now)
    if report.timed_out or report.reclaimed or report.resent or report.results_redelivered:
        log.info("sweep: %s", report)
    return report


def _open_calls(rt: Runtime, call_ids: list[str]) -> set[str]:
    with rt.sessions() as session:
        return set(session.scalars(select(Call.id).where(
            Call.id.in_(call_ids), Call.status.in_(st.CALL_HOLDING_CHANNEL))))
