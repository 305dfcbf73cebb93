"""One stuck connection must not freeze dialing: every call fails within its timeout.

A Redis or PostgreSQL that accepts the TCP connection and never answers (a
paused server, a half-open connection) is played by a local listener that
accepts and stays silent; a lock held forever is held by a second connection
of the test. Each call runs on a thread the test waits for with a generous
bound: on a client without timeouts the thread is still blocked when the
bound runs out, which is the failure.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from dialer.client import DialerClient
from dialer.providers.simulated import SimulatedProvider
from dialer.service.runtime import Runtime, build_runtime
from dialer.service.steps.planning import refill
from dialer.settings import load_settings
from tests.support.in_process import OPEN_WINDOW, Collector
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

# Far above the timeouts the tests configure (about 1 s), far below "forever".
BOUND_S = 20.0


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    listener.close()


def outcome_within(bound_s: float, call: Callable[[], Any]) -> BaseException | Any:
    """Run ``call`` on a thread; its exception or result, or fail if it is still blocked."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the test
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(bound_s)
    assert not thread.is_alive(), f"still blocked after {bound_s} s: no timeout applied"
    box.append(time.monotonic() - started)
    return box[0]


def runtime_for(database_url: str, redis_url: str, **settings: Any) -> Runtime:
    return build_runtime(
        load_settings(database_url=database_url, redis_url=redis_url, **settings),
        dispatcher=Collector(), provider_factory=SimulatedProvider.from_runtime, pool_size=1)


def test_a_silent_redis_fails_the_call_instead_of_hanging(silent_server: int,
                                                          database_url: str) -> None:
    rt = runtime_for(database_url, f"redis://127.0.0.1:{silent_server}/0",
                     redis_socket_timeout_s=0.5, redis_connect_timeout_s=0.5)
    try:
        error = outcome_within(BOUND_S, rt.redis.ping)
        assert isinstance(error, redis.TimeoutError)
        error = outcome_within(BOUND_S, lambda: rt.leases.acquire(
            "call", campaign_id="c", org_id="o", campaign_limit=1, org_limit=1, now_s=1.0,
            expires_at_s=2.0))
        assert isinstance(error, redis.TimeoutError)
    finally:
        rt.close()


def test_a_paused_redis_fails_the_call_instead_of_hanging(redis_url: str,
                                                          database_url: str) -> None:
    """``CLIENT PAUSE`` on our own Redis: the server is up but answers nobody."""
    rt = runtime_for(database_url, redis_url, redis_socket_timeout_s=0.5)
    admin = redis.Redis.from_url(redis_url)
    try:
        rt.redis.ping()  # connected before the pause
        admin.execute_command("CLIENT", "PAUSE", 3000, "ALL")
        error = outcome_within(BOUND_S, lambda: rt.redis.get("anything"))
        assert isinstance(error, redis.TimeoutError)
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
        rt.close()


def test_a_silent_postgresql_fails_the_connect_instead_of_hanging(silent_server: int,
                                                                  redis_url: str) -> None:
    url = f"postgresql+psycopg://127.0.0.1:{silent_server}/nobody"
    rt = runtime_for(url, redis_url, db_connect_timeout_s=1)
    try:
        def connect() -> None:
            with rt.engine.connect():
                pass
        assert isinstance(outcome_within(BOUND_S, connect), OperationalError)
    finally:
        rt.close()


def test_a_runaway_statement_is_canceled(clean_state, database_url: str, redis_url: str) -> None:
    rt = runtime_for(database_url, redis_url, db_statement_timeout_s=0.5)
    try:
        def sleep_long() -> None:
            with rt.engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_sleep(60)"))
        error = outcome_within(BOUND_S, sleep_long)
        assert isinstance(error, OperationalError) and "statement timeout" in str(error)
    finally:
        rt.close()


def test_a_lock_held_forever_fails_the_refill_within_the_lock_timeout(
        clean_state, database_url: str, redis_url: str) -> None:
    """A refill waits for the campaign row by design, but not forever: a session that
    holds the row (a worker stuck mid-transaction) makes it fail, and Celery retries."""
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    with DialerClient(database_url=database_url, redis_url=redis_url,
                      time_origin=origin) as client:
        audience = client.create_audience("one", ny_contacts([["answered"]]))
        campaign_id = client.create_campaign(campaign_spec(audience.id)).id
        client.start(campaign_id)
    rt = runtime_for(database_url, redis_url, time_origin=origin, db_lock_timeout_s=0.5)
    holder = sa.create_engine(database_url)
    try:
        with holder.connect() as stuck:
            stuck.execute(sa.text("SELECT 1 FROM campaigns WHERE id = :id FOR UPDATE"),
                          {"id": campaign_id})
            error = outcome_within(BOUND_S, lambda: refill(rt, campaign_id, rt.clock.now()))
            assert isinstance(error, OperationalError) and "lock timeout" in str(error)
            stuck.rollback()
    finally:
        holder.dispose()
        rt.close()


def test_a_silent_broker_fails_the_publish_instead_of_hanging(silent_server: int,
                                                              database_url: str) -> None:
    """The tick publishes its dials to the broker: a wedged broker must not freeze it."""
    from workers.app import create_app

    app = create_app(load_settings(database_url=database_url,
                                   broker_url=f"redis://127.0.0.1:{silent_server}/0",
                                   redis_socket_timeout_s=0.5, redis_connect_timeout_s=0.5))
    try:
        error = outcome_within(BOUND_S, lambda: app.send_task(
            "dialer.tick", retry=False))
        assert isinstance(error, Exception), error
    finally:
        app.close()
