"""The tick: start due campaigns, then queue the next calls of each running one.

Two ticks at once are harmless: each campaign is dispatched under its row
lock (``SKIP LOCKED``: the other tick moves on), and the channel lease is
re-checked at dial time anyway. The planning itself is ``steps/planning.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.service.isolation import isolated
from dialer.service.leasing import ensure_leases_ready
from dialer.service.runtime import Runtime
from dialer.service.steps import campaign_state
from dialer.service.steps.planning import dispatch_campaign, send
from dialer.store import dispatch as store


@dataclass
class TickReport:
    started: list[str] = field(default_factory=list)
    queued: dict[str, int] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)


def tick(rt: Runtime) -> TickReport:
    now = rt.clock.now()
    report = TickReport()
    ensure_leases_ready(rt, now)
    with rt.unit_of_work() as session:
        report.started = campaign_state.start_due_scheduled(session, now=now)
        session.commit()
        running = store.campaigns_to_tick(session)
    for campaign_id in running:
        # One campaign that cannot be dispatched is recorded and skipped, never the tick.
        with isolated(rt, campaign_id, step="tick", now=now):
            _tick_campaign(rt, campaign_id, now, report)
    return report


def _tick_campaign(rt: Runtime, campaign_id: str, now: datetime, report: TickReport) -> None:
    queued = dispatch_campaign(rt, campaign_id, now)
    send(rt, queued)
    if queued:
        report.queued[campaign_id] = len(queued)
    with rt.transaction() as session:
        if campaign_state.complete_if_done(session, campaign_id, now=now):
            report.completed.append(campaign_id)
