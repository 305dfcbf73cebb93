"""Test tiers share one PostgreSQL database and one Redis db per run.

Migrations run once per session; each test starts from empty tables and an
empty Redis db. Workers and beats are real subprocesses (see ``stack``).
"""

from __future__ import annotations

import os

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

TEST_DATABASE_URL = os.environ.get(
    "DIALER_TEST_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/dialer_test")
TEST_REDIS_URL = os.environ.get("DIALER_TEST_REDIS_URL_STACK", "redis://127.0.0.1:6379/13")

TABLES = ("rejected_requests", "skips", "events", "executions", "calls", "participants",
          "campaigns", "contacts", "audiences", "dnc", "phone_numbers", "applied_commands")


@pytest.fixture(scope="session")
def database_url() -> str:
    from models.db import upgrade

    url = make_url(TEST_DATABASE_URL)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
            "AND pid <> pg_backend_pid()"), {"name": url.database})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}"'))
    admin.dispose()
    upgrade(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    return TEST_REDIS_URL


def empty_state(database_url: str, redis_url: str) -> None:
    """Empty tables and an empty Redis db, as a test starts from (the fixture below; the
    schema fuzz module, whose server outlives single tests, calls it itself)."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        # Organisations other than `default` (migration 0005) go with their API keys.
        conn.execute(sa.text("DELETE FROM organisations WHERE name <> 'default'"))
        conn.execute(sa.text("TRUNCATE api_keys CASCADE"))  # and their console sessions
    engine.dispose()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


@pytest.fixture
def clean_state(database_url: str, redis_url: str):
    empty_state(database_url, redis_url)
    _empty_the_stack_broker(redis_url)
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _empty_the_stack_broker(redis_url: str) -> None:
    # A RabbitMQ broker (DIALER_TEST_BROKER_URL) is not in the flushed Redis
    # db: its queues are deleted instead, so no test inherits another's tasks.
    from tests.support.broker import is_amqp, reset_amqp
    from tests.support.stack import broker_url

    url = broker_url(redis_url)
    if is_amqp(url):
        reset_amqp(url)


@pytest.fixture
def make_stack(clean_state, database_url: str, redis_url: str, request):
    """Factory for a real stack; stopped (and its logs shown on failure) after the test."""
    from tests.support.stack import Stack

    stacks: list[Stack] = []

    def factory(**kwargs):
        stack = Stack(database_url=database_url, redis_url=redis_url, **kwargs)
        stacks.append(stack)
        return stack

    yield factory
    failed = getattr(request.node, "rep_call", None)
    for stack in stacks:
        stack.stop()
        if failed is not None and failed.failed:
            print(stack.logs())


@pytest.fixture
def cli_environment(clean_state, database_url: str, redis_url: str, monkeypatch):
    """Point the ``dialer`` settings at the test services, with the clock at ``origin``
    (ISO 8601) now and running in real time; returns a client built from them."""
    import time

    from dialer.client import DialerClient

    clients: list[DialerClient] = []

    def at(origin: str) -> DialerClient:
        monkeypatch.setenv("DIALER_DATABASE_URL", database_url)
        monkeypatch.setenv("DIALER_REDIS_URL", redis_url)
        monkeypatch.setenv("DIALER_TIME_ORIGIN", f"{origin}@{time.time()}")
        monkeypatch.setenv("DIALER_TIME_SCALE", "1")
        clients.append(DialerClient())
        return clients[-1]

    yield at
    for client in clients:
        client.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
