"""Misconfiguration fails fast, with one clear line, in a real worker process.

A provider that cannot be imported used to fail every call, one traceback at
a time; a time scale without an origin gave every worker process its own
clock. Both now stop the worker at start. Ticks discarded because this
worker's clock runs ahead of beat's are no longer silent: the worker warns
with the measured skew.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.stack import ROOT, wait_for

pytestmark = pytest.mark.integration


def start_worker(stack, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run a worker that is expected to refuse to start; kill it if it starts instead."""
    environment = {**stack.env, **env}
    for name, value in env.items():
        if value is None:
            environment.pop(name)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-c", "1",
         "-P", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the worker started instead of refusing:\n{out}{err}"[-3000:])
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start prints (and nothing like a traceback)."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "refusing to start" in line]
    assert len(lines) == 1, output
    return lines[0]


def test_a_provider_that_cannot_be_imported_stops_the_worker(make_stack) -> None:
    stack = make_stack(sim_start=datetime(2026, 3, 2, 15, tzinfo=UTC), time_scale=1.0)
    line = refusal(start_worker(stack, DIALER_PROVIDER="no_such_package.telephony:Provider"))
    assert "DIALER_PROVIDER" in line and "no_such_package" in line

    line = refusal(start_worker(stack, DIALER_PROVIDER="tests.support.stack:NoSuchClass"))
    assert "DIALER_PROVIDER" in line and "NoSuchClass" in line


def test_a_time_scale_without_an_origin_stops_the_worker(make_stack) -> None:
    stack = make_stack(sim_start=datetime(2026, 3, 2, 15, tzinfo=UTC), time_scale=60.0)
    line = refusal(start_worker(stack, DIALER_TIME_ORIGIN=None))
    assert "DIALER_TIME_SCALE" in line and "DIALER_TIME_ORIGIN" in line


def test_ticks_discarded_for_clock_skew_are_reported_with_the_skew(make_stack) -> None:
    from workers.app import create_app

    stack = make_stack(sim_start=datetime(2026, 3, 2, 15, tzinfo=UTC), time_scale=1.0,
                       tick_seconds=1.0)
    worker = stack.start_worker(concurrency=1)
    app = create_app(stack.client().settings)
    try:
        # What beat sends when its clock runs 45 s behind this worker's: a tick
        # that, by the worker's clock, expired long before it arrived.
        beat_now = datetime.now(UTC) - timedelta(seconds=45)
        app.send_task("dialer.tick", expires=beat_now + timedelta(seconds=0.9),
                      queue="dialer.control")
        log = worker.log_path  # type: ignore[attr-defined]
        line = wait_for(lambda: next((row for row in log.read_text().splitlines()
                                      if "clock" in row and "dialer.tick" in row), None),
                        timeout_s=30, what="a clock skew warning in the worker's log")
        assert "WARNING" in line
        skew = float(re.search(r"ahead of beat's clock by about ([\d.]+) s", line).group(1))
        assert 44 <= skew <= 60, line
    finally:
        app.close()


def test_a_redis_that_may_evict_is_reported_at_start(make_stack, clean_state) -> None:
    """Eviction is the one way a pacing key alone can vanish (docs/deployment.md)."""
    stack = make_stack(sim_start=datetime(2026, 3, 2, 15, tzinfo=UTC), time_scale=1.0)
    before = clean_state.config_get("maxmemory-policy")["maxmemory-policy"]
    clean_state.config_set("maxmemory-policy", "allkeys-lru")
    try:
        worker = stack.start_worker(concurrency=1)
    finally:
        clean_state.config_set("maxmemory-policy", before)
    text = worker.log_path.read_text()  # type: ignore[attr-defined]
    assert "maxmemory-policy is allkeys-lru" in text and "noeviction" in text, text
