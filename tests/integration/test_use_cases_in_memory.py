"""The use cases with coordination in memory: the real tick, dial and result against the
real PostgreSQL, and no Redis or Celery at all.

The Runtime holds ``dialer.coordination.memory``'s leases, limiter and breaker
window (held to the Redis ones by tests/contract/test_coordination.py), a
dispatcher that only records what it is asked to send, a provider that only
records the calls it is asked to place, and a clock that moves only when the
test says. Its raw Redis client points at a closed port: anything that still
reached Redis would fail here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.coordination.memory import (
    MemoryBreakerWindow,
    MemoryChannelLeases,
    MemoryPacingLimiter,
)
from dialer.provider import CallRequest
from dialer.service.dial import dial
from dialer.service.results import record_result
from dialer.service.runtime import Runtime, build_runtime
from dialer.service.tick import tick
from dialer.settings import load_settings
from tests.conftest import TABLES
from tests.support.clock import FakeClock
from tests.support.in_process import OPEN_WINDOW
from tests.support.scenario import launch, ny_contacts

pytestmark = pytest.mark.integration

NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there
DAY = OPEN_WINDOW.date().isoformat()  # the campaigns' local date (New York)


class Recorder:
    """The dispatcher: what the use cases asked to send, in order."""

    def __init__(self) -> None:
        self.dials: list[tuple[str, float]] = []
        self.results: list[str] = []

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        self.dials.append((call_id, countdown_s))

    def send_result(self, call_id: str, **kwargs: Any) -> None:
        self.results.append(call_id)

    def dialed(self) -> list[str]:
        return [call_id for call_id, _ in self.dials]


class Placing:
    """The provider: every call it is asked to place is placed, and nothing more."""

    def __init__(self) -> None:
        self.placed: list[str] = []

    def place_call(self, request: CallRequest) -> str:
        self.placed.append(request.call_id)
        return f"provider-{request.call_id}"


@dataclasses.dataclass
class World:
    rt: Runtime
    clock: FakeClock
    dispatcher: Recorder
    provider: Placing
    leases: MemoryChannelLeases  # rt.leases, with its memory-only ``forget``
    database_url: str

    def launch(self, contacts: int, **spec: Any) -> str:
        # The operator's side, through the public client (it touches no Redis either).
        with DialerClient(database_url=self.database_url, redis_url=NO_REDIS,
                          time_origin=f"{OPEN_WINDOW.isoformat()}@{time.time()}") as client:
            return launch(client, ny_contacts([["answered"]] * contacts), **spec)

    def org_id(self) -> str:
        """The organisation ``launch`` creates campaigns in (the client's default one)."""
        with DialerClient(database_url=self.database_url, redis_url=NO_REDIS,
                          time_origin=f"{OPEN_WINDOW.isoformat()}@{time.time()}") as client:
            return client.org.id

    def now_s(self) -> float:
        return self.clock.now().timestamp()

    def query(self, sql: str, **params: Any) -> list[Any]:
        with self.rt.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    clock, dispatcher, provider = FakeClock(OPEN_WINDOW), Recorder(), Placing()
    settings = load_settings(database_url=database_url, redis_url=NO_REDIS, tick_seconds=1.0)
    built = build_runtime(settings, dispatcher=dispatcher, provider_factory=lambda _: provider,
                          pool_size=2)
    leases = MemoryChannelLeases()
    rt = dataclasses.replace(built, clock=clock, leases=leases, limiter=MemoryPacingLimiter(),
                             breaker=MemoryBreakerWindow())
    yield World(rt, clock, dispatcher, provider, leases, database_url)
    rt.close()


def test_the_first_tick_rebuilds_the_empty_lease_store(world: World) -> None:
    assert not world.rt.leases.is_ready()  # as an empty Redis: nothing known yet
    campaign_id = world.launch(1)
    tick(world.rt)
    assert world.rt.leases.is_ready()
    assert len(world.dispatcher.dials) == 1
    assert dial(world.rt, world.dispatcher.dialed()[0]) == "placed"
    assert world.rt.leases.in_use(campaign_id, now_s=world.now_s()) == 1


def test_a_full_channel_set_returns_the_call_to_the_tick(world: World) -> None:
    campaign_id = world.launch(1, pacing={"channels": 1})
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    # Another call holds the campaign's one channel (as far as coordination knows).
    org_id = world.org_id()
    assert world.rt.leases.acquire("elsewhere", campaign_id=campaign_id, org_id=org_id,
                                   campaign_limit=1, org_limit=100, now_s=world.now_s(),
                                   expires_at_s=world.now_s() + 600).acquired

    assert dial(world.rt, call_id) == "returned:campaign_full"
    assert world.provider.placed == []
    assert world.query("SELECT id FROM calls") == []  # put back: the attempt is not counted
    assert world.rt.leases.holders(campaign_id, now_s=world.now_s()) == ["elsewhere"]

    world.rt.leases.release("elsewhere", campaign_id=campaign_id, org_id=org_id)
    tick(world.rt)
    [_, again] = world.dispatcher.dialed()
    assert dial(world.rt, again) == "placed"
    assert world.provider.placed == [again]


def test_a_pacing_denial_requeues_the_call_for_its_slot(world: World) -> None:
    campaign_id = world.launch(1, pacing={"channels": 2, "calls_per_minute": 1})
    # This minute's one placement was taken 30 s ago (another worker, say).
    assert world.rt.limiter.try_acquire(campaign_id, "earlier", now_s=world.now_s() - 30,
                                        calls_per_minute=1, spacing_s=0.0, daily_limit=None,
                                        day_key=DAY).allowed
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()

    assert dial(world.rt, call_id) == "requeued:calls_per_minute"
    assert world.dispatcher.dials[-1] == (call_id, pytest.approx(30.0))
    assert world.query("SELECT status FROM calls WHERE id = :id", id=call_id) == [("queued",)]
    assert world.rt.leases.in_use(campaign_id, now_s=world.now_s()) == 0  # lease given back
    assert world.provider.placed == []

    world.clock.advance(30)
    assert dial(world.rt, call_id) == "placed"
    assert world.provider.placed == [call_id]
    assert world.rt.limiter.usage(campaign_id, now_s=world.now_s(), day_key=DAY)["today"] == 2


def test_the_breaker_window_trips_the_campaign(world: World) -> None:
    campaign_id = world.launch(2, pacing={"channels": 2}, safety={
        "circuit_breaker": {"failure_rate": 0.5, "min_calls": 2, "window": 4}})
    # One failure already in the window, from an earlier call.
    world.rt.breaker.record(campaign_id, "earlier", failed=True, window=4)
    tick(world.rt)
    first, second = world.dispatcher.dialed()
    assert dial(world.rt, first) == "placed"

    assert record_result(world.rt, first, outcome="failed") == "recorded"
    assert world.rt.breaker.snapshot(campaign_id, window=4).failures == 2
    assert world.query("SELECT status, pause_reason FROM campaigns") == [
        ("paused", "circuit_breaker")]
    # Tripping gave back the call still queued: its dial finds nothing to do.
    assert world.query("SELECT id FROM calls WHERE id = :id", id=second) == []
    assert dial(world.rt, second) == "not_queued"
    assert world.provider.placed == [first]
    assert world.rt.leases.in_use(campaign_id, now_s=world.now_s()) == 0


def test_a_result_frees_the_channel_for_the_next_contact(world: World) -> None:
    campaign_id = world.launch(2, pacing={"channels": 1})
    tick(world.rt)
    [first] = world.dispatcher.dialed()
    assert dial(world.rt, first) == "placed"
    assert world.rt.leases.holders(campaign_id, now_s=world.now_s()) == [first]
    tick(world.rt)
    assert world.dispatcher.dialed() == [first]  # the one channel is taken

    world.clock.advance(40)
    assert record_result(world.rt, first, outcome="answered", duration_s=30.0) == "recorded"
    assert world.rt.leases.in_use(campaign_id, now_s=world.now_s()) == 0
    # The campaign was using all its channels: the freed one is refilled at once.
    [_, second] = world.dispatcher.dialed()
    assert dial(world.rt, second) == "placed"
    assert world.rt.leases.holders(campaign_id, now_s=world.now_s()) == [second]


def test_a_lost_lease_store_is_rebuilt_from_postgresql(world: World) -> None:
    campaign_id = world.launch(2, pacing={"channels": 1})
    tick(world.rt)
    [first] = world.dispatcher.dialed()
    assert dial(world.rt, first) == "placed"
    world.leases.forget()  # the coordination db was wiped

    tick(world.rt)  # rebuilds from the calls in flight, then plans
    assert world.rt.leases.holders(campaign_id, now_s=world.now_s()) == [first]
    assert world.dispatcher.dialed() == [first]  # the channel is still taken
