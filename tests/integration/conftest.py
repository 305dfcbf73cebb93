"""Fixtures shared by several integration test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from dialer.coordination.redis_leases import LeaseSemaphore
from tests.support.leases import fresh_redis, ready_leases


@pytest.fixture
def r() -> Iterator[redis.Redis]:
    """The emptied Redis test db (DIALER_TEST_REDIS_URL)."""
    yield from fresh_redis()


@pytest.fixture
def leases(r: redis.Redis) -> LeaseSemaphore:
    """Channel leases on ``r``, ready to acquire."""
    return ready_leases(r)
