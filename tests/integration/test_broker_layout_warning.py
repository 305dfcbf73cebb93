"""The worker says, once and at start, when the broker shares the coordination db."""

from __future__ import annotations

from datetime import UTC, datetime

SHARED = "share one Redis database"


def test_a_worker_warns_once_when_broker_and_coordination_share_a_db(make_stack, redis_url):
    stack = make_stack(sim_start=datetime.now(UTC), time_scale=1.0,
                       extra_env={"DIALER_BROKER_URL": redis_url})
    log = stack.start_worker(concurrency=1).log_path.read_text()
    assert log.count(SHARED) == 1, log[-3000:]
    assert "WARNING/MainProcess] the Celery broker and the coordination data" in log


def test_no_warning_with_the_broker_in_its_own_db(make_stack):
    stack = make_stack(sim_start=datetime.now(UTC), time_scale=1.0)
    assert stack.env["DIALER_BROKER_URL"] != stack.env["DIALER_REDIS_URL"]
    log = stack.start_worker(concurrency=1).log_path.read_text()
    assert SHARED not in log
