"""Dials per second one worker sustains with instant simulated calls, against a
baseline of bare Celery no-op tasks per second on the same Redis and worker settings.

    .venv/bin/python bench/worker_throughput.py [--calls 1500] [--concurrency 2]

Each dial is two tasks (dialer.dial and its dialer.call_result), each touching
PostgreSQL and Redis; the baseline counts single no-op tasks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_state  # noqa: E402
from tests.support.scenario import launch, ny_contacts, status_of  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_throughput"
REDIS_URL = "redis://127.0.0.1:6379/10"


def baseline_tasks_per_s(count: int, concurrency: int) -> float:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = dict(os.environ, BENCH_BROKER_URL=REDIS_URL, PYTHONPATH=str(ROOT))
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.noop_app", "worker", "-c",
         str(concurrency), "-P", "prefork", "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        from bench.noop_app import app

        app.send_task("bench.noop")
        wait_for(lambda: client.get("bench:noop:done"), timeout_s=60, what="noop worker up")
        client.delete("bench:noop:done")
        started = time.monotonic()
        for _ in range(count):
            app.send_task("bench.noop")
        wait_for(lambda: int(client.get("bench:noop:done") or 0) >= count, timeout_s=600,
                 what="no-op tasks done", interval_s=0.05)
        return count / (time.monotonic() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        client.close()


def dialer_dials_per_s(count: int, concurrency: int) -> float:
    fresh_state(DATABASE_URL, REDIS_URL)
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=1,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=0.5, provider="simulated")
    try:
        stack.start_worker(concurrency=concurrency)
        stack.start_beat()
        client = stack.client()
        campaign_id = launch(client, ny_contacts([["answered"]] * count, ring_s=0, talk_s=0),
                             pacing={"channels": 500})
        wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=900,
                 what="campaign completed", interval_s=0.5)
        stamps = sorted(c.placed_at.timestamp() for c in client.calls(campaign_id))
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    baseline = baseline_tasks_per_s(args.calls * 2, args.concurrency)
    dials = dialer_dials_per_s(args.calls, args.concurrency)
    print(f"one worker, -c {args.concurrency}, {args.calls} instant calls")
    print(f"baseline no-op tasks/s     = {baseline:.1f}")
    print(f"dials/s                    = {dials:.1f}")
    print(f"dials/s / no-op tasks/s    = {dials / baseline:.3f}")
    print(f"(a dial is 2 tasks: task throughput ratio = {2 * dials / baseline:.3f})")


if __name__ == "__main__":
    main()
