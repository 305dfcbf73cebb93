"""The broker/coordination layout check behind the worker's start-up warning."""

from __future__ import annotations

import pytest

from dialer.broker_layout import redis_db_of, shares_redis_db


@pytest.mark.parametrize(("broker", "coordination", "shared"), [
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", True),
    ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0", True),  # no db means 0
    ("redis://127.0.0.1/0", "redis://127.0.0.1:6379/0", True),  # default port
    ("redis://:secret@Redis:6379/0", "redis://redis:6379/0", True),  # credentials, case
    ("rediss://redis:6379/0", "redis://redis:6379/0", True),  # TLS or not, same data
    ("redis://redis:6379/1", "redis://redis:6379/0", False),
    ("redis://broker:6379/0", "redis://redis:6379/0", False),
    ("redis://redis:6380/0", "redis://redis:6379/0", False),
    ("redis://redis:6379?db=1", "redis://redis:6379/0", False),
    ("amqp://guest:guest@127.0.0.1:5672//", "redis://127.0.0.1:6379/0", False),
])
def test_shares_redis_db(broker: str, coordination: str, shared: bool) -> None:
    assert shares_redis_db(broker, coordination) is shared


def test_other_brokers_have_no_redis_db() -> None:
    assert redis_db_of("amqp://guest@localhost//") is None
    assert redis_db_of("unix:///run/redis.sock?db=3") == ("/run/redis.sock", 0, 3)
