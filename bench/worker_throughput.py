"""Dispatch: dials per second one worker sustains with instant simulated calls,
against bare Celery no-op tasks per second on the same Redis, same worker
settings (bench/noop_app.py copies them from the dialer's app), same -c.

    .venv/bin/python bench/worker_throughput.py [--calls 2000] [--concurrency 2] [--quick]

A dial is two tasks (dialer.dial, then its dialer.call_result), so the
figures are given both in dials/s and in tasks/s. Channels and the
organisation cap are ample (no lease ever refuses), calls are instant, and
the built-in simulated provider answers them (as in production, it also keeps
its outbox in Redis). Besides the
rates it prints the CPU seconds per dial of the worker, PostgreSQL and Redis:
on a small machine they share the same cores, which is what limits the rate.
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

from bench.common import cpu_seconds, fresh_state, pids_named, process_tree  # noqa: E402
from tests.support.scenario import launch, ny_contacts, status_of  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_throughput"
REDIS_URL = "redis://127.0.0.1:6379/10"
AMPLE = 5000


class CpuMeter:
    """CPU seconds used by a worker's process tree, PostgreSQL and Redis over a window."""

    def __init__(self, worker_pid: int) -> None:
        self._worker_pid = worker_pid
        self.start = {pid: cpu_seconds([pid]) for pids in self._groups().values() for pid in pids}

    def _groups(self) -> dict[str, list[int]]:
        # The prefork parent receives, acks and emits events; its children run the tasks.
        return {"worker main": [self._worker_pid],
                "worker pool": process_tree(self._worker_pid)[1:],
                "postgres": pids_named("postgres"), "redis": pids_named("redis-server")}

    def used(self) -> dict[str, float]:
        """Processes born in the window (pool connections' backends) count from zero."""
        return {name: sum(cpu_seconds([pid]) - self.start.get(pid, 0.0) for pid in pids)
                for name, pids in self._groups().items()}


def baseline_tasks_per_s(count: int, concurrency: int) -> tuple[float, dict[str, float]]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = dict(os.environ, BENCH_BROKER_URL=REDIS_URL, PYTHONPATH=str(ROOT))
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.noop_app", "worker", "-c",
         str(concurrency), "-P", "prefork", "--loglevel", "INFO", "--without-gossip",
         "--without-mingle"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        from bench.noop_app import app

        app.send_task("bench.noop")
        wait_for(lambda: client.get("bench:noop:done"), timeout_s=60, what="noop worker up")
        client.delete("bench:noop:done")
        # Queued up front, as the dialer's tick queues its dials: the worker's rate is measured.
        for _ in range(count):
            app.send_task("bench.noop")
        meter = CpuMeter(worker.pid)
        started = time.monotonic()
        done_before = int(client.get("bench:noop:done") or 0)
        wait_for(lambda: int(client.get("bench:noop:done") or 0) >= count, timeout_s=600,
                 what="no-op tasks done", interval_s=0.02)
        elapsed = time.monotonic() - started
        return (count - done_before) / elapsed, meter.used()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        client.close()


def dialer_dials_per_s(count: int, concurrency: int) -> tuple[float, dict[str, float]]:
    fresh_state(DATABASE_URL, REDIS_URL)
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=1,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=0.5, org_channel_cap=AMPLE, provider="simulated")
    try:
        worker = stack.start_worker(concurrency=concurrency)
        stack.start_beat()
        client = stack.client()
        meter = CpuMeter(worker.pid)
        campaign_id = launch(client, ny_contacts([["answered"]] * count, ring_s=0, talk_s=0),
                             pacing={"channels": AMPLE})
        wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=900,
                 what="campaign completed", interval_s=0.5)
        used = meter.used()
        calls = client.calls(campaign_id)
        assert len(calls) == count == len({c.contact_id for c in calls}), "one call per contact"
        stamps = sorted(c.placed_at.timestamp() for c in calls)
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]), used
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="500 calls")
    args = parser.parse_args()
    calls = 500 if args.quick else args.calls
    baseline, base_cpu = baseline_tasks_per_s(calls * 2, args.concurrency)
    dials, dial_cpu = dialer_dials_per_s(calls, args.concurrency)
    print(f"one worker, -c {args.concurrency}, {calls} instant calls, {os.cpu_count()} CPUs")
    print(f"baseline no-op tasks/s           = {baseline:8.1f}")
    print(f"dials/s                          = {dials:8.1f}")
    print(f"dialer tasks/s (2 per dial)      = {2 * dials:8.1f}")
    print(f"dials/s / no-op tasks/s          = {dials / baseline:8.3f}")
    print(f"dialer tasks/s / no-op tasks/s   = {2 * dials / baseline:8.3f}   (target >= 0.5)")
    print("CPU ms per task, no-op   : " + ", ".join(
        f"{k} {v / (2 * calls) * 1000:.2f}" for k, v in base_cpu.items()))
    print("CPU ms per dial (2 tasks): " + ", ".join(
        f"{k} {v / calls * 1000:.2f}" for k, v in dial_cpu.items())
          + "  (whole run: includes the tick, beat excluded)")


if __name__ == "__main__":
    main()
