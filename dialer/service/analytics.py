"""A campaign's analytics (docs/contract.md, "Analytics"): funnel, heatmap, pickup rates,
executions. Each is the campaign's check (NotFound for another organisation's) and one
aggregation of dialer/store/analytics.py, in one unit of work; the shares are
dialer/analytics.py's."""

from __future__ import annotations

from dialer.analytics import DAY_NAMES, percent, rate, week_grid
from dialer.service.runtime import Runtime
from dialer.service.steps.campaign_state import load_campaign
from dialer.statuses import CampaignStatus
from dialer.store import analytics as store
from dialer.views import (
    ExecutionRun,
    ExecutionSummary,
    FunnelStep,
    FunnelView,
    HeatmapCell,
    HeatmapView,
    OrgRef,
    PickupRow,
)

# A placed call whose caller ID was not recorded.
UNKNOWN_CALLER_ID = "unknown"


def funnel(rt: Runtime, org: OrgRef, campaign_id: str) -> FunnelView:
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        counts = store.funnel(session, campaign.id)
    steps: list[FunnelStep] = []
    previous = counts.total
    for name in ("total", "scheduled", "dialed", "connected", "goal_achieved"):
        count = getattr(counts, name)
        steps.append(FunnelStep(name=name, count=count,
                                pct_of_total=percent(count, counts.total),
                                pct_of_previous=percent(count, previous)))
        previous = count
    return FunnelView(
        campaign_id=campaign.id, total=counts.total, scheduled=counts.scheduled,
        dialed=counts.dialed, connected=counts.connected, goal_achieved=counts.goal_achieved,
        called_pct=percent(counts.dialed, counts.total),
        connected_pct=percent(counts.connected, counts.total), steps=steps)


def heatmap(rt: Runtime, org: OrgRef, campaign_id: str) -> HeatmapView:
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        counts = store.heatmap(session, campaign.id, zone=campaign.timezone)
    cells = [HeatmapCell(dow=dow, day=DAY_NAMES[dow], hour=hour, placed=placed,
                         answered=answered, answer_rate=rate(answered, placed))
             for dow, hour, placed, answered in week_grid(counts)]
    return HeatmapView(campaign_id=campaign.id, timezone=campaign.timezone,
                       placed=sum(c.placed for c in cells),
                       answered=sum(c.answered for c in cells), cells=cells)


def pickup_by_attempt(rt: Runtime, org: OrgRef, campaign_id: str) -> list[PickupRow]:
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        rows = store.pickup_by_attempt(session, campaign.id)
    return [_row(key, placed, answered) for key, placed, answered in rows]


def pickup_by_caller_id(rt: Runtime, org: OrgRef, campaign_id: str) -> list[PickupRow]:
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        rows = store.pickup_by_caller_id(session, campaign.id)
    return [_row(key or UNKNOWN_CALLER_ID, placed, answered) for key, placed, answered in rows]


def execution_summary(rt: Runtime, org: OrgRef, campaign_id: str) -> ExecutionSummary:
    now = rt.clock.now()
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        runs = store.executions(session, campaign.id)
    views = [ExecutionRun(
        execution_number=r.execution_number, status=r.status, started_at=r.started_at,
        ended_at=r.ended_at,
        # A run still open lasts until now (the dialer's clock, simulated time).
        duration_s=max(0.0, ((r.ended_at or now) - r.started_at).total_seconds()),
        total_members=r.total_members, processed_members=r.processed,
        failed_members=r.failed, calls_placed=r.calls_placed,
        progress_pct=percent(r.processed, r.total_members)) for r in runs]
    statuses = [r.status for r in runs]
    return ExecutionSummary(
        campaign_id=campaign.id, total=len(runs),
        running=statuses.count(CampaignStatus.RUNNING),
        paused=statuses.count(CampaignStatus.PAUSED),
        stopped=statuses.count(CampaignStatus.STOPPED),
        completed=statuses.count(CampaignStatus.COMPLETED),
        failed=statuses.count(CampaignStatus.FAILED), executions=views)


def _row(key: str, placed: int, answered: int) -> PickupRow:
    return PickupRow(key=key, placed=placed, answered=answered, rate=rate(answered, placed))
