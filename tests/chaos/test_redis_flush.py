"""FLUSHDB of the dialer's Redis and of the broker's db mid-run, with calls in flight.

Leases and pacing are gone, and so are the dial tasks waiting in the
broker's lists. Until a tick or sweep rebuilds the leases from PostgreSQL
every dial is put back; the sweep sends the vanished dials again.
"""

from __future__ import annotations

import re
import time

import pytest
import redis

from tests.chaos.harness import finish, mixed, outcome_mismatches, start_run, worker_logs
from tests.support.broker import is_amqp
from tests.support.stack import broker_url, wait_for
from workers.app import DIAL_QUEUE

# The fault is Redis's own: with RabbitMQ as the broker, a lost Redis takes no
# queued task with it (tests/chaos/test_results_never_lost.py flushes the
# coordination db on both brokers).
pytestmark = [pytest.mark.chaos, pytest.mark.skipif(
    is_amqp(broker_url("redis://127.0.0.1:6379/13")),
    reason="a Redis flush loses queued dials only when Redis is the broker")]


def flush_while_dials_wait(broker: redis.Redis, coordination: redis.Redis) -> int:
    """FLUSHDB of both dbs (the whole Redis lost) at an instant when dial tasks wait in
    the broker; returns how many vanished."""
    with broker.pipeline() as pipe:
        try:
            pipe.watch(DIAL_QUEUE)
            waiting = int(pipe.llen(DIAL_QUEUE))
            if waiting == 0:
                pipe.unwatch()
                return 0
            pipe.multi()
            pipe.flushdb()
            pipe.execute()
        except redis.WatchError:  # the list moved between LLEN and FLUSHDB: not sure
            return 0
    coordination.flushdb()
    return waiting


def test_redis_flushed_mid_run_rebuilds_leases_and_resends_lost_dials(make_stack):
    # A slow carrier API and one process per worker: dial tasks queue up in the broker.
    run = start_run(make_stack, [mixed(30, extra=(("test_place_delay_s", 0.25),)),
                                 mixed(30, extra=(("test_place_delay_s", 0.25),))],
                    concurrency=1)
    dialer_redis = redis.Redis.from_url(run.stack.env["DIALER_REDIS_URL"])
    broker = redis.Redis.from_url(run.stack.env["DIALER_BROKER_URL"])
    wait_for(lambda: len(run.ledger()) >= 10, timeout_s=30, what="ten calls placed")

    def in_flight() -> int:
        now = time.time()
        return sum(1 for e in run.ledger() if e.start <= now < e.end)

    vanished = wait_for(lambda: in_flight() >= 2 and flush_while_dials_wait(broker, dialer_redis),
                        timeout_s=30, interval_s=0.01,
                        what="a moment with calls in flight and dials in the broker")

    ledger = finish(run, timeout_s=120)

    assert vanished >= 1
    logs = worker_logs(run)
    rebuilt = [int(n) for n in re.findall(r"leases rebuilt from PostgreSQL: (\d+) calls", logs)]
    assert rebuilt and max(rebuilt) >= 1, "no lease was rebuilt for the calls in flight"
    resent = [int(n) for n in re.findall(r"resent=(\d+)", logs)]
    assert sum(resent) >= 1, "no vanished dial was sent again"
    # Results in flight are not lost with the broker either: each call keeps its outcome.
    assert outcome_mismatches(run, ledger) == []
    dialer_redis.close()
    broker.close()
