"""What the Prometheus exporter reads: one snapshot of the dialer per scrape.

A scrape is four GROUP BY queries and three Redis reads whatever the number
of campaigns, so Prometheus polling every few seconds costs PostgreSQL a
constant handful of statements; campaigns that ended more than a day ago are
left out, so neither the queries nor the series grow with history. Counts
come from PostgreSQL (the truth) with the same filters as
``DialerClient.get(id)["metrics"]`` and the readiness checklist, so a
dashboard never disagrees with ``dialer watch``.

The tick duration histogram is the exception: ticks run in worker
processes and the exporter in another, so each tick adds its observation to
one Redis hash and the exporter reads it back. A Redis wipe restarts it from
zero, which Prometheus treats as an ordinary counter reset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy.exc import SQLAlchemyError

from dialer import statuses as st
from dialer.coordination import redis_keys
from dialer.service.runtime import Runtime
from dialer.store import metrics

log = logging.getLogger(__name__)

# A campaign that completed, stopped or failed stays in the series this long
# (simulated time), then drops out: Prometheus keeps what it scraped.
ENDED_CAMPAIGNS_SHOWN = timedelta(hours=24)

# Seconds. A healthy tick takes milliseconds to a few hundred; the upper buckets
# exist to show a tick creeping toward DIALER_TICK_SECONDS (beat expires it then).
TICK_BUCKETS_S: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                                     10.0)


# --- the tick histogram, shared through Redis -----------------------------------------------

def _bucket_field(bound_s: float) -> str:
    return f"le:{bound_s:g}"


def observe_tick(client: redis.Redis, duration_s: float) -> None:
    """Add one tick's duration. Never raises: a metric must not fail the tick it measures."""
    bound = next((b for b in TICK_BUCKETS_S if duration_s <= b), None)
    key = redis_keys.tick_duration_histogram()
    try:
        # MULTI/EXEC: a scrape never sees the count without its bucket.
        pipe = client.pipeline(transaction=True)
        if bound is not None:  # above the last bound it is counted in +Inf (= count) only
            pipe.hincrby(key, _bucket_field(bound), 1)
        pipe.hincrbyfloat(key, "sum", float(duration_s))
        pipe.hincrby(key, "count", 1)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("tick duration not recorded: %s", type(exc).__name__)


@dataclass(frozen=True)
class TickHistogram:
    buckets: list[tuple[str, float]]  # cumulative, Prometheus style, ending with +Inf
    sum_s: float
    count: int


def read_tick_histogram(client: redis.Redis) -> TickHistogram:
    raw = {_text(k): _text(v) for k, v in client.hgetall(
        redis_keys.tick_duration_histogram()).items()}
    count = int(raw.get("count", 0))
    running = 0
    buckets: list[tuple[str, float]] = []
    for bound in TICK_BUCKETS_S:
        running += int(raw.get(_bucket_field(bound), 0))
        buckets.append((floatToGoString(bound), float(running)))
    buckets.append(("+Inf", float(count)))
    return TickHistogram(buckets=buckets, sum_s=float(raw.get("sum", 0.0)), count=count)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- the snapshot ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignRow:
    id: str
    name: str
    status: str
    pause_reason: str | None
    channels: int


@dataclass(frozen=True)
class OrgRow:
    id: str
    name: str
    channel_cap: int
    in_use: int  # calls holding a channel (PostgreSQL)
    leases_held: int  # unexpired leases (Redis)


@dataclass
class Snapshot:
    at: datetime
    campaigns: list[CampaignRow]
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    in_use: dict[str, int] = field(default_factory=dict)
    due: dict[str, int] = field(default_factory=dict)
    orgs: list[OrgRow] = field(default_factory=list)
    leases_ready: bool = False
    tick: TickHistogram | None = None


def take_snapshot(rt: Runtime) -> Snapshot:
    now = rt.clock.now()
    with rt.unit_of_work() as session:
        # Live campaigns, and those that ended within a day (their final figures stay on
        # dashboards for a while): a scrape's cost and series stay bounded as history grows.
        campaigns = [CampaignRow(*row) for row in metrics.campaigns_shown(
            session, ended_since=now - ENDED_CAMPAIGNS_SHOWN)]
        ids = [c.id for c in campaigns]
        outcomes = metrics.outcomes(session, ids)
        # A channel is held exactly while a call is dialing or placed (as in reads.metrics).
        in_use = metrics.channels_in_use(session)
        due = metrics.due(session, ids, now=now)
        org_in_use = metrics.channels_in_use_by_org(session)
        orgs = metrics.organisations(session)
    return Snapshot(
        at=now, campaigns=campaigns, outcomes=outcomes, in_use=in_use, due=due,
        orgs=[OrgRow(id=org_id, name=name, channel_cap=rt.org_cap(cap),
                     in_use=org_in_use.get(org_id, 0),
                     leases_held=rt.leases.org_in_use(org_id, now_s=now.timestamp()))
              for org_id, name, cap in orgs],
        leases_ready=rt.leases.is_ready(), tick=read_tick_histogram(rt.redis))


# --- Prometheus families ------------------------------------------------------------------

def families(snap: Snapshot) -> Iterator[Metric]:
    """The metric families of one snapshot; campaigns are labelled by id (UUID)."""
    ids = [c.id for c in snap.campaigns]
    known = set(ids)
    calls = CounterMetricFamily("dialer_calls", "Finished calls by campaign and outcome.",
                                labels=["campaign", "outcome"])
    for (cid, outcome), n in sorted(snap.outcomes.items()):
        if cid in known:
            calls.add_metric([cid, outcome], n)
    yield calls
    yield _per_campaign("dialer_channels_in_use", "Calls holding a channel (dialing or placed).",
                        ids, lambda cid: snap.in_use.get(cid, 0))
    channels = {c.id: c.channels for c in snap.campaigns}
    yield _per_campaign("dialer_channels_allocated", "Concurrent channels allocated.",
                        ids, channels.__getitem__)
    yield _per_org("dialer_org_channels_in_use",
                   "Calls holding a channel across the organisation's campaigns (PostgreSQL).",
                   snap.orgs, lambda org: org.in_use)
    yield _per_org("dialer_org_channel_cap",
                   "The organisation's channel cap (its own, else DIALER_ORG_CHANNEL_CAP).",
                   snap.orgs, lambda org: org.channel_cap)
    yield _per_org("dialer_org_leases_held",
                   "Unexpired channel leases in Redis; should track "
                   "dialer_org_channels_in_use.", snap.orgs, lambda org: org.leases_held)
    yield GaugeMetricFamily("dialer_leases_ready",
                            "1 when Redis holds complete lease sets; 0 after a wipe until the "
                            "next tick or sweep rebuilds them (nothing dials meanwhile).",
                            value=int(snap.leases_ready))
    yield _per_campaign("dialer_due_backlog",
                        "Participants whose next attempt is due now but not yet queued.",
                        ids, lambda cid: snap.due.get(cid, 0))
    breaker = {c.id: int(c.status == st.CampaignStatus.PAUSED
                         and c.pause_reason == "circuit_breaker")
               for c in snap.campaigns}
    yield _per_campaign("dialer_breaker_open", "1 while the circuit breaker holds it paused.",
                        ids, breaker.__getitem__)
    status = GaugeMetricFamily("dialer_campaign_status", "1 for the campaign's current status.",
                               labels=["campaign", "status"])
    info = GaugeMetricFamily("dialer_campaign_info", "Campaign names, to join on the id.",
                             labels=["campaign", "name"])
    for campaign in snap.campaigns:
        for name in st.CAMPAIGN_STATUSES:
            status.add_metric([campaign.id, name], int(campaign.status == name))
        info.add_metric([campaign.id, campaign.name], 1)
    yield status
    yield info
    if snap.tick is not None:
        yield HistogramMetricFamily(
            "dialer_tick_duration_seconds", "Real seconds per scheduler tick (all workers).",
            buckets=snap.tick.buckets, sum_value=snap.tick.sum_s)


def _per_campaign(name: str, documentation: str, ids: Sequence[str],
                  value_of: Callable[[str], float]) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=["campaign"])
    for cid in ids:
        gauge.add_metric([cid], value_of(cid))
    return gauge


def _per_org(name: str, documentation: str, orgs: Sequence[OrgRow],
             value_of: Callable[[OrgRow], float]) -> GaugeMetricFamily:
    """Labelled by the organisation's name: what an operator reads on a dashboard."""
    gauge = GaugeMetricFamily(name, documentation, labels=["org"])
    for org in orgs:
        gauge.add_metric([org.name], value_of(org))
    return gauge


class DialerCollector(Collector):
    """Reads a fresh snapshot on every scrape; nothing is cached between scrapes.

    With no ``describe``, registering it on a registry runs no query.
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def collect(self) -> Iterator[Metric]:
        try:
            snap = take_snapshot(self._rt)
        except (SQLAlchemyError, redis.RedisError) as exc:
            # Answer the scrape anyway: "the exporter is up, the dialer's stores are not".
            log.warning("scrape failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
            yield GaugeMetricFamily("dialer_scrape_success",
                                    "1 when PostgreSQL and Redis answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("dialer_scrape_success",
                                "1 when PostgreSQL and Redis answered this scrape.", value=1)
        yield from families(snap)
