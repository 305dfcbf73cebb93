"""Channel leases: what the lease tests share (tests/contract/test_coordination.py,
tests/integration/test_redis_primitives.py, test_partial_redis_loss.py).

Their fixtures ``r`` (the emptied test db) and ``leases`` (a semaphore marked
ready) are in tests/integration/conftest.py, built from ``fresh_redis`` and
``ready_leases`` here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import redis

from dialer.coordination import ChannelLeases, LeaseResult
from dialer.coordination.redis_leases import LeaseSemaphore

REDIS_URL = os.environ.get("DIALER_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
T0_S = 1_772_442_000.0  # 2026-03-02 09:00 UTC-ish: realistic magnitudes for float scores
FAR_S = T0_S + 10_000.0


def fresh_redis() -> Iterator[redis.Redis]:
    """A client on the test db, emptied first; closed when the generator ends."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.close()


def ready_leases(client: redis.Redis) -> LeaseSemaphore:
    """A lease semaphore marked ready (as after a rebuild with nothing in flight)."""
    semaphore = LeaseSemaphore(client)
    semaphore.mark_ready()
    return semaphore


ORG = "o1"  # the organisation of every campaign a test does not place elsewhere


def take(leases: ChannelLeases, call_id: str, campaign_id: str = "c1", *, org_id: str = ORG,
         limit: int = 3, org_limit: int = 100, now_s: float = T0_S,
         expires_at_s: float = FAR_S) -> LeaseResult:
    """Acquire one lease for ``call_id`` at ``now_s``, held until ``expires_at_s``."""
    return leases.acquire(call_id, campaign_id=campaign_id, org_id=org_id,
                          campaign_limit=limit, org_limit=org_limit, now_s=now_s,
                          expires_at_s=expires_at_s)
