"""The coordination implementations side by side, for the contract tests
(tests/contract/test_coordination.py) and the Redis-only ones
(tests/integration/test_redis_primitives.py).

``Coordination`` holds the three pieces, a ``wipe`` that loses everything
at once, as a FLUSHDB of the coordination db does, and ``lose_org_set``, which
loses one organisation's lease set alone, as an eviction of its key does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis

from dialer.coordination import (
    BreakerWindow,
    ChannelLeases,
    PacingDecision,
    PacingLimiter,
    redis_keys,
)
from dialer.coordination.memory import (
    MemoryBreakerWindow,
    MemoryChannelLeases,
    MemoryPacingLimiter,
)
from dialer.coordination.redis_breaker import BreakerCounter
from dialer.coordination.redis_leases import LeaseSemaphore
from dialer.coordination.redis_pacing import PlacementLimiter

DAY = "2026-03-02"


@dataclass(frozen=True)
class Coordination:
    leases: ChannelLeases
    limiter: PacingLimiter
    breaker: BreakerWindow
    wipe: Callable[[], None]
    lose_org_set: Callable[[str], None]


def in_memory() -> Coordination:
    leases, limiter, breaker = MemoryChannelLeases(), MemoryPacingLimiter(), MemoryBreakerWindow()

    def wipe() -> None:
        leases.forget()
        limiter.forget()
        breaker.forget()

    return Coordination(leases, limiter, breaker, wipe, leases.forget_org)


def on_redis(client: redis.Redis) -> Coordination:
    """The Redis implementations on ``client``'s db, emptied first."""
    client.flushdb()

    def lose_org_set(org_id: str) -> None:
        client.delete(redis_keys.org_leases(org_id))

    return Coordination(LeaseSemaphore(client), PlacementLimiter(client), BreakerCounter(client),
                        client.flushdb, lose_org_set)


def place(limiter: PacingLimiter, call_id: str, now_s: float, *, cpm: int | None = None,
          spacing_s: float = 0.0, daily: int | None = None, day_key: str = DAY,
          campaign_id: str = "c1") -> PacingDecision:
    return limiter.try_acquire(campaign_id, call_id, now_s=now_s, calls_per_minute=cpm,
                               spacing_s=spacing_s, daily_limit=daily, day_key=day_key)


def max_in_any_window(instants: list[float], window_s: float = 60.0) -> int:
    """The most instants in any half-open interval (a, a + window_s].

    The busiest such interval can always be slid to end on an instant, so
    checking (t - window_s, t] for every instant t is enough.
    """
    ordered = sorted(instants)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best
