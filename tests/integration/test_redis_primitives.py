"""The Redis coordination primitives against a real Redis (never a fake): what only
Redis can show.

Leases, the placement limiter and the breaker window are Lua scripts whose
whole point is atomicity across processes, so they are hammered from threads,
each with its own client and connection; the keys they prune, trim and expire
are looked at directly. What both implementations share (limits, spacing, the
daily limit, retry instants, rebuilds, the window's counts) is the contract in
tests/contract/test_coordination.py, run against this Redis too. Time is
simulated epoch seconds passed in; nothing here sleeps to make time pass.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from dialer.coordination import PacingDecision, WindowCounts, redis_keys
from dialer.coordination.redis_breaker import BreakerCounter
from dialer.coordination.redis_leases import LeaseSemaphore
from dialer.coordination.redis_pacing import GC_TTL_REAL_S, PlacementLimiter
from tests.support.coordination import DAY, max_in_any_window, place
from tests.support.leases import FAR_S, ORG, REDIS_URL, T0_S, take

pytestmark = pytest.mark.integration


def new_client() -> redis.Redis:
    # One client (and connection pool) per thread, as separate workers would have.
    return redis.Redis.from_url(REDIS_URL)


def run_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run ``target(i)`` on ``count`` threads at once; re-raise the first error."""
    barrier = threading.Barrier(count)

    def start(i: int) -> Any:
        barrier.wait()
        return target(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start, i) for i in range(count)]
        return [future.result(timeout=60) for future in futures]


# --- leases (fixtures r and leases: tests/integration/conftest.py) ----------------------------

def test_lease_expired_entries_are_pruned(leases: LeaseSemaphore, r: redis.Redis) -> None:
    assert take(leases, "dead", limit=1, org_limit=1, expires_at_s=T0_S + 100).acquired
    assert take(leases, "b", limit=1, org_limit=1, now_s=T0_S + 99.5).reason == "campaign_full"
    # At its deadline the lease no longer counts (a killed worker's channel comes back).
    assert leases.in_use("c1", now_s=T0_S + 100) == 0
    assert leases.org_in_use(ORG, now_s=T0_S + 100) == 0
    assert take(leases, "b", limit=1, org_limit=1, now_s=T0_S + 100).acquired
    assert r.zscore(redis_keys.campaign_leases("c1"), "dead") is None
    assert r.zscore(redis_keys.org_leases(ORG), "dead") is None
    assert leases.holders("c1", now_s=T0_S + 100) == ["b"]


def test_lease_rebuild_of_many_calls_in_chunks(r: redis.Redis) -> None:
    semaphore = LeaseSemaphore(r)
    semaphore.rebuild(((f"call-{i}", f"camp-{i % 7}", f"org-{i % 7 % 3}", FAR_S)
                       for i in range(2500)), now_s=T0_S)
    assert semaphore.is_ready()
    assert sum(semaphore.org_in_use(f"org-{i}", now_s=T0_S) for i in range(3)) == 2500
    assert semaphore.org_in_use("org-0", now_s=T0_S) == sum(
        semaphore.in_use(f"camp-{i}", now_s=T0_S) for i in (0, 3, 6))
    assert sum(semaphore.in_use(f"camp-{i}", now_s=T0_S) for i in range(7)) == 2500


def test_lease_works_with_a_decoding_client() -> None:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    try:
        semaphore = LeaseSemaphore(client)
        assert take(semaphore, "a").reason == "not_ready"
        semaphore.mark_ready()
        assert take(semaphore, "a").acquired
        assert take(semaphore, "b", limit=1).reason == "campaign_full"
        assert semaphore.holders("c1", now_s=T0_S) == ["a"]
    finally:
        client.close()


def hammer_leases(campaign_of: Callable[[int], str], *, limit: int, org_limit: int,
                  org_of: Callable[[str], str] = lambda campaign_id: ORG,
                  threads: int = 8, iterations: int = 250) -> tuple[dict[str, int],
                                                                   dict[str, int]]:
    """Threads acquire, hold briefly and release; return the max simultaneous holders
    seen per campaign and per organisation.

    The shared counters are updated from inside the held section, under a
    Python lock, so they measure what the semaphore actually let through.
    """
    lock = threading.Lock()
    current: dict[str, int] = {}
    peak: dict[str, int] = {}
    org_current: dict[str, int] = {}
    org_peak: dict[str, int] = {}

    def worker(index: int) -> int:
        client = new_client()
        semaphore = LeaseSemaphore(client)
        campaign_id = campaign_of(index)
        org_id = org_of(campaign_id)
        rng = random.Random(index)
        acquired = 0
        try:
            for i in range(iterations):
                call_id = f"t{index}-{i}"
                now_s = T0_S + i  # a moving clock, with leases far from expiring
                result = semaphore.acquire(call_id, campaign_id=campaign_id, org_id=org_id,
                                           campaign_limit=limit, org_limit=org_limit,
                                           now_s=now_s, expires_at_s=FAR_S)
                if not result.acquired:
                    assert result.reason in ("campaign_full", "org_full")
                    continue
                acquired += 1
                with lock:
                    current[campaign_id] = current.get(campaign_id, 0) + 1
                    peak[campaign_id] = max(peak.get(campaign_id, 0), current[campaign_id])
                    org_current[org_id] = org_current.get(org_id, 0) + 1
                    org_peak[org_id] = max(org_peak.get(org_id, 0), org_current[org_id])
                # Hold the channel across a few Redis round trips so holders overlap.
                for _ in range(rng.randint(0, 3)):
                    semaphore.in_use(campaign_id, now_s=now_s)
                with lock:
                    current[campaign_id] -= 1
                    org_current[org_id] -= 1
                semaphore.release(call_id, campaign_id=campaign_id, org_id=org_id)
        finally:
            client.close()
        return acquired

    acquired_per_thread = run_threads(threads, worker)
    assert all(count > 0 for count in acquired_per_thread)
    return peak, org_peak


def test_lease_concurrent_holders_never_exceed_the_campaign_limit(leases: LeaseSemaphore) -> None:
    peak, org_peak = hammer_leases(lambda i: "solo", limit=3, org_limit=5)
    assert peak["solo"] <= 3
    assert org_peak[ORG] <= 3
    assert peak["solo"] == 3  # the contention was real: the cap was reached
    assert leases.in_use("solo", now_s=T0_S) == 0
    assert leases.org_in_use(ORG, now_s=T0_S) == 0


def test_lease_concurrent_holders_never_exceed_the_org_cap(leases: LeaseSemaphore) -> None:
    peak, org_peak = hammer_leases(lambda i: "A" if i % 2 else "B", limit=3, org_limit=5)
    assert peak["A"] <= 3
    assert peak["B"] <= 3
    assert org_peak[ORG] <= 5
    assert org_peak[ORG] == 5  # both campaigns at 3 would be 6: the org cap did the work
    assert leases.org_in_use(ORG, now_s=T0_S) == 0


def test_lease_concurrent_organisations_each_reach_their_own_cap(
        leases: LeaseSemaphore) -> None:
    # Four campaigns, two per organisation, each organisation capped at 4 of their 6.
    org_of = {"X1": "X", "X2": "X", "Y1": "Y", "Y2": "Y"}.__getitem__
    peak, org_peak = hammer_leases(lambda i: ["X1", "X2", "Y1", "Y2"][i % 4], limit=3,
                                   org_limit=4, org_of=org_of, threads=12)
    assert all(count <= 3 for count in peak.values())
    assert org_peak["X"] <= 4 and org_peak["Y"] <= 4
    # Each reached its own cap: neither organisation's load kept the other below it.
    assert org_peak == {"X": 4, "Y": 4}
    assert leases.org_in_use("X", now_s=T0_S) == leases.org_in_use("Y", now_s=T0_S) == 0


# --- placement limiter ----------------------------------------------------------------------

@pytest.fixture
def limiter(r: redis.Redis) -> PlacementLimiter:
    return PlacementLimiter(r)


def test_limiter_calls_per_minute_under_concurrency(limiter: PlacementLimiter) -> None:
    """Eight workers race over one campaign; no 60 s interval ever gets more than N."""
    n = 5
    rng = random.Random(7)
    instants: list[float] = []
    t = T0_S
    for _ in range(1600):
        t += rng.choice([0.0, 0.001, 0.5, 1.0, 2.5, 7.0, 13.0])  # bursts and lulls
        instants.append(t)
    lock = threading.Lock()
    feed = iter(enumerate(instants))
    allowed: list[float] = []

    def worker(index: int) -> None:
        client = new_client()
        own = PlacementLimiter(client)
        try:
            while True:
                with lock:
                    item = next(feed, None)
                if item is None:
                    return
                i, now_s = item
                decision = own.try_acquire("c1", f"call-{i}", now_s=now_s, calls_per_minute=n,
                                           spacing_s=0.0, daily_limit=None, day_key=DAY)
                if decision.allowed:
                    with lock:
                        allowed.append(now_s)
                else:
                    assert decision.reason == "calls_per_minute"
                    assert decision.retry_at_s is not None and decision.retry_at_s > now_s
        finally:
            client.close()

    run_threads(8, worker)
    assert max_in_any_window(allowed) <= n
    span_s = instants[-1] - instants[0]
    # Not trivially safe: with demand far above N it kept placing about N a minute.
    assert len(allowed) >= n * (span_s / 60.0) * 0.8


def test_limiter_daily_count_expires_in_about_three_days(limiter: PlacementLimiter,
                                                         r: redis.Redis) -> None:
    """What only Redis shows (the daily limit itself is in tests/contract): the
    day's counter is garbage-collected, in real seconds."""
    assert place(limiter, "a", T0_S, daily=2).allowed
    ttl = r.ttl(redis_keys.daily_count("c1", DAY))
    assert 0 < ttl <= GC_TTL_REAL_S


def test_limiter_rebuild_keeps_no_placement_past_any_window(limiter: PlacementLimiter,
                                                           r: redis.Redis) -> None:
    """What only Redis shows (the behaviour itself is in tests/contract): a rebuild
    after FLUSHDB stores no placement older than every window."""
    r.flushdb()
    recent = [("p0", T0_S + 100), ("p1", T0_S + 110), ("old", T0_S - 1000)]
    limiter.rebuild("c1", recent, day_key=DAY, today_count=7, now_s=T0_S + 120)
    assert r.zscore(redis_keys.placements("c1"), "p1") == T0_S + 110
    assert r.zscore(redis_keys.placements("c1"), "old") is None


def test_limiter_works_with_a_decoding_client() -> None:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    try:
        limiter = PlacementLimiter(client)
        assert place(limiter, "a", T0_S, cpm=1).allowed
        assert place(limiter, "b", T0_S + 1, cpm=1) == PacingDecision(
            False, "calls_per_minute", T0_S + 60)
        assert limiter.usage("c1", now_s=T0_S + 1, day_key=DAY)["today"] == 1
    finally:
        client.close()


# --- breaker window -------------------------------------------------------------------------

@pytest.fixture
def breaker(r: redis.Redis) -> BreakerCounter:
    return BreakerCounter(r)


def test_breaker_window_list_is_trimmed(breaker: BreakerCounter, r: redis.Redis) -> None:
    """What only Redis shows (the counting itself is in tests/contract): LTRIM keeps
    the stored window bounded."""
    for i in range(7):
        breaker.record("c1", f"call-{i}", failed=i % 2 == 0, window=5)
    assert r.llen(redis_keys.breaker_window("c1")) == 5


def test_breaker_concurrent_records_give_exact_totals(breaker: BreakerCounter) -> None:
    threads, per_thread = 8, 100
    finals: list[WindowCounts] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        client = new_client()
        own = BreakerCounter(client)
        try:
            for i in range(per_thread):
                result = own.record("c1", f"t{index}-{i}", failed=i % 3 == 0, window=10_000)
                own.record("c2", f"t{index}-{i}", failed=True, window=50)
                with lock:
                    finals.append(result)
        finally:
            client.close()

    run_threads(threads, worker)
    expected_failures = threads * sum(1 for i in range(per_thread) if i % 3 == 0)
    assert breaker.snapshot("c1", window=10_000) == WindowCounts(
        total=threads * per_thread, failures=expected_failures)
    # Each record saw a consistent count: the totals seen are exactly 1..800, once each.
    assert sorted(w.total for w in finals) == list(range(1, threads * per_thread + 1))
    assert breaker.snapshot("c2", window=50) == WindowCounts(total=50, failures=50)

