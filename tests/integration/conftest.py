"""Fixtures shared by several integration test modules."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from dialer.client import DialerClient
from dialer.coordination.redis_leases import LeaseSemaphore
from dialer.service import orgs
from tests.support.leases import fresh_redis, ready_leases
from tests.support.scenario import MONDAY_9AM_NY


@pytest.fixture
def client(clean_state, database_url, redis_url) -> Iterator[DialerClient]:
    """A client of `default` on an empty stack, its clock at Monday 09:00 in New York
    (modules that need another client define their own ``client``)."""
    origin = f"{MONDAY_9AM_NY.isoformat()}@{time.time()}"
    with DialerClient(database_url=database_url, redis_url=redis_url,
                      time_origin=origin) as c:
        yield c


@pytest.fixture
def r() -> Iterator[redis.Redis]:
    """The emptied Redis test db (DIALER_TEST_REDIS_URL)."""
    yield from fresh_redis()


@pytest.fixture
def leases(r: redis.Redis) -> LeaseSemaphore:
    """Channel leases on ``r``, ready to acquire."""
    return ready_leases(r)


@pytest.fixture
def two_orgs(clean_state, database_url, redis_url):
    """Clients of `default` and of a second organisation, `acme`."""
    clients = [DialerClient(database_url=database_url, redis_url=redis_url,
                            broker_url=redis_url)]
    orgs.create_org(clients[0].runtime, "acme")
    clients.append(DialerClient(database_url=database_url, redis_url=redis_url,
                                broker_url=redis_url, org="acme"))
    yield clients
    for client in clients:
        client.close()
