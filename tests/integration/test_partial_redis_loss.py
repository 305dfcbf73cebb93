"""Partial Redis loss: one lease set gone or stale while the ready marker survives.

A FLUSHDB takes the marker with it, so it was always detected. These are the
losses that leave the marker in place: an evicted key, one key restored from
an older copy (DUMP/RESTORE, an old RDB/AOF), the data served by another
server (a failover to a replica). Each must answer ``not_ready`` (never let
more calls through than the caps allow) until a rebuild from PostgreSQL
brings back exactly the leases of the calls in flight.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dialer.coordination import LeaseResult, redis_keys
from dialer.coordination.redis_leases import LeaseSemaphore
from tests.support.leases import FAR_S, ORG, T0_S
from tests.support.leases import take as support_take

pytestmark = pytest.mark.integration

NOT_READY = LeaseResult(acquired=False, reason="not_ready")


def take(leases: LeaseSemaphore, call_id: str, campaign_id: str = "A", *, limit: int = 2,
         org_limit: int = 100) -> LeaseResult:
    """The shared ``take`` with this file's campaign: "A", two channels."""
    return support_take(leases, call_id, campaign_id, limit=limit, org_limit=org_limit)


def test_a_lost_campaign_set_answers_not_ready_until_rebuilt(
        leases: LeaseSemaphore, r: redis.Redis) -> None:
    assert take(leases, "a1").acquired and take(leases, "a2").acquired
    assert take(leases, "b1", "B").acquired
    r.delete(redis_keys.campaign_leases("A"))  # evicted; the marker is still there

    # An empty set would let two more calls through a 2-channel campaign.
    assert take(leases, "a3") == NOT_READY
    assert not leases.is_ready()
    assert take(leases, "b2", "B") == NOT_READY  # nothing goes through until rebuilt

    leases.rebuild([("a1", "A", ORG, FAR_S), ("a2", "A", ORG, FAR_S), ("b1", "B", ORG, FAR_S)],
                   now_s=T0_S)
    assert leases.is_ready()
    assert leases.in_use("A", now_s=T0_S) == 2
    assert leases.org_in_use(ORG, now_s=T0_S) == 3
    assert take(leases, "a3").reason == "campaign_full"
    assert take(leases, "b2", "B").acquired


def test_a_lost_organisation_set_answers_not_ready(leases: LeaseSemaphore, r: redis.Redis) -> None:
    assert take(leases, "a1", org_limit=1).acquired
    r.delete(redis_keys.org_leases(ORG))
    assert take(leases, "b1", "B", org_limit=1) == NOT_READY
    assert not leases.is_ready()


def test_an_older_copy_of_an_organisation_set_answers_not_ready(
        leases: LeaseSemaphore, r: redis.Redis) -> None:
    # Its campaigns' sets are current: only the organisation's own version tells.
    assert take(leases, "a1", org_limit=2).acquired
    old_copy = r.dump(redis_keys.org_leases(ORG))
    assert take(leases, "b1", "B", org_limit=2).acquired
    r.restore(redis_keys.org_leases(ORG), 0, old_copy, replace=True)  # b1 missing from it
    assert take(leases, "c1", "C", org_limit=2) == NOT_READY
    assert not leases.is_ready()


def test_an_older_copy_of_a_lease_set_answers_not_ready_and_rebuild_is_exact(
        leases: LeaseSemaphore, r: redis.Redis) -> None:
    assert take(leases, "a1").acquired
    old_copy = r.dump(redis_keys.campaign_leases("A"))
    assert take(leases, "a2").acquired
    leases.release("a1", campaign_id="A", org_id=ORG)
    # The set comes back as it was: a1 (ended since) counted, a2 (in flight) missing.
    r.restore(redis_keys.campaign_leases("A"), 0, old_copy, replace=True)

    assert take(leases, "a3") == NOT_READY
    assert not leases.is_ready()
    leases.rebuild([("a2", "A", ORG, FAR_S)], now_s=T0_S)  # PostgreSQL: only a2 is in flight
    assert leases.holders("A", now_s=T0_S) == ["a2"]
    assert leases.org_in_use(ORG, now_s=T0_S) == 1
    assert take(leases, "a3").acquired
    assert take(leases, "a4").reason == "campaign_full"


def test_an_older_copy_of_the_marker_answers_not_ready(
        leases: LeaseSemaphore, r: redis.Redis) -> None:
    assert take(leases, "a1").acquired
    old_marker = r.dump(redis_keys.leases_ready())
    assert take(leases, "a2").acquired
    r.restore(redis_keys.leases_ready(), 0, old_marker, replace=True)
    assert take(leases, "a3") == NOT_READY
    assert not leases.is_ready()


def test_a_set_from_an_earlier_generation_answers_not_ready(
        leases: LeaseSemaphore, r: redis.Redis) -> None:
    assert take(leases, "a1").acquired
    earlier = r.dump(redis_keys.campaign_leases("A"))
    leases.rebuild([("a1", "A", ORG, FAR_S)], now_s=T0_S)  # a new generation
    r.restore(redis_keys.campaign_leases("A"), 0, earlier, replace=True)
    assert take(leases, "a2") == NOT_READY


def test_a_release_keeps_the_set_and_marker_in_step(leases: LeaseSemaphore) -> None:
    # The bookkeeping must not turn ordinary traffic into not_ready.
    for i in range(5):
        assert take(leases, f"a{i}", limit=1).acquired
        assert take(leases, f"a{i}", limit=1).acquired  # a re-acquire
        leases.release(f"a{i}", campaign_id="A", org_id=ORG)
        leases.release(f"a{i}", campaign_id="A", org_id=ORG)
        assert leases.is_ready()
    assert leases.in_use("A", now_s=T0_S) == 0
    assert leases.holders("A", now_s=T0_S) == []


def test_a_campaign_with_no_lease_left_leaves_nothing_behind(
        leases: LeaseSemaphore, r: redis.Redis) -> None:
    # Thousands of campaigns (and organisations) over the months must not grow the
    # marker that every tick and sweep checks, nor leave a set per campaign ever dialed.
    for campaign in ("A", "B", "C"):
        assert support_take(leases, f"{campaign}1", campaign, org_id=f"org-{campaign}").acquired
    for campaign in ("A", "B", "C"):
        leases.release(f"{campaign}1", campaign_id=campaign, org_id=f"org-{campaign}")
    assert not r.exists(*(redis_keys.campaign_leases(c) for c in ("A", "B", "C")))
    assert not r.exists(*(redis_keys.org_leases(f"org-{c}") for c in ("A", "B", "C")))
    fields = {f.decode() for f in r.hkeys(redis_keys.leases_ready())}
    assert not [f for f in fields if f.startswith("v:")], fields
    assert leases.is_ready()
    # And the campaign dials again as if new.
    assert take(leases, "A2", "A").acquired and leases.in_use("A", now_s=T0_S) == 1


@pytest.fixture
def second_server() -> Iterator[redis.Redis]:
    """Another Redis server process: what a failover to a replica puts behind the URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="dialer-redis-"))
    socket_path = folder / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket_path), "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_same_keys_on_another_server_answer_not_ready(
        leases: LeaseSemaphore, r: redis.Redis, second_server: redis.Redis) -> None:
    """A replica (or a restart from an RDB/AOF) may hold a consistent but stale copy:
    every key agrees with every other, so only the server's identity can tell."""
    assert take(leases, "a1").acquired
    for key in r.keys(f"{redis_keys.PREFIX}leases:*"):
        second_server.restore(key, 0, r.dump(key), replace=True)
    failed_over = LeaseSemaphore(second_server)
    assert take(failed_over, "a2") == NOT_READY
    assert not failed_over.is_ready()
    failed_over.rebuild([("a1", "A", ORG, FAR_S)], now_s=T0_S)
    assert take(failed_over, "a2").acquired
    assert take(failed_over, "a3").reason == "campaign_full"


def test_the_tick_rebuilds_a_lost_set_from_the_calls_in_flight(
        clean_state, database_url: str, redis_url: str) -> None:
    from dialer.client import DialerClient
    from dialer.service.dial import dial
    from dialer.service.leasing import ensure_leases_ready
    from dialer.service.tick import tick
    from tests.support.in_process import OPEN_WINDOW, in_process_runtime
    from tests.support.scenario import campaign_spec, ny_contacts

    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    rt = in_process_runtime(database_url, redis_url, origin)
    try:
        with DialerClient(database_url=database_url, redis_url=redis_url,
                          time_origin=origin) as client:
            audience = client.create_audience("two", ny_contacts([["answered"], ["answered"]]))
            campaign_id = client.create_campaign(
                campaign_spec(audience.id, pacing={"channels": 2})).id
            client.start(campaign_id)
            org_id = client.org.id
        tick(rt)
        calls = list(rt.dispatcher.dials)  # type: ignore[attr-defined]
        assert len(calls) == 2 and [dial(rt, c) for c in calls] == ["placed", "placed"]
        now_s = rt.clock.now().timestamp()
        assert rt.leases.in_use(campaign_id, now_s=now_s) == 2

        redis.Redis.from_url(redis_url).delete(redis_keys.campaign_leases(campaign_id))
        assert not rt.leases.is_ready()
        assert ensure_leases_ready(rt, rt.clock.now())
        assert rt.leases.is_ready()
        assert sorted(rt.leases.holders(campaign_id, now_s=now_s)) == sorted(calls)
        assert rt.leases.org_in_use(org_id, now_s=now_s) == 2
    finally:
        rt.close()


def test_the_marker_of_an_earlier_release_is_rebuilt_not_an_error(r: redis.Redis) -> None:
    """Upgrading: the previous release's marker was a plain string beside unstamped sets."""
    r.set(redis_keys.leases_ready(), "1")
    r.zadd(redis_keys.campaign_leases("A"), {"old": FAR_S})
    semaphore = LeaseSemaphore(r)
    assert not semaphore.is_ready()
    assert take(semaphore, "a1") == NOT_READY
    semaphore.rebuild([("a1", "A", ORG, FAR_S)], now_s=T0_S)
    assert semaphore.is_ready()
    assert semaphore.holders("A", now_s=T0_S) == ["a1"]


def test_the_previous_releases_single_organisation_set_is_rebuilt_and_removed(
        r: redis.Redis) -> None:
    """Upgrading from one organisation-wide set: its marker vouched for no
    per-organisation set, so it must not pass for a ready store of empty ones."""
    earlier = LeaseSemaphore(r)
    earlier.mark_ready()
    assert take(earlier, "a1", limit=5, org_limit=1).acquired
    # What the previous release left: a consistent store whose marker names its one
    # organisation set (and not this organisation's, which reads as never written).
    legacy_org, legacy_ready, _ = redis_keys.legacy_lease_keys()
    r.rename(redis_keys.org_leases(ORG), legacy_org)
    r.rename(redis_keys.leases_ready(), legacy_ready)
    version = r.hget(legacy_ready, f"v:{redis_keys.org_leases(ORG)}")
    r.hdel(legacy_ready, f"v:{redis_keys.org_leases(ORG)}")
    r.hset(legacy_ready, f"v:{legacy_org}", version)
    semaphore = LeaseSemaphore(r)
    assert not semaphore.is_ready()
    # Trusted, it would let a second call through an organisation of one channel.
    assert take(semaphore, "a2", limit=5, org_limit=1) == NOT_READY
    semaphore.rebuild([("a1", "A", ORG, FAR_S)], now_s=T0_S)
    assert semaphore.is_ready()
    assert semaphore.org_in_use(ORG, now_s=T0_S) == 1
    assert not r.exists(*redis_keys.legacy_lease_keys())
