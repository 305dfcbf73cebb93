"""Retries in waiting: 100,000 participants waiting for a retry days away.

    .venv/bin/python bench/retries_waiting.py [--waiting 100000] [--seconds 60] [--quick]

Retries live in ``participants.next_attempt_at`` in PostgreSQL, never as
Celery ETA tasks, so a worker holds nothing for a contact that waits. Set-up:
an audience imported through the client, a campaign created and started
through the client; its participants are then set, in SQL, to what a first
unanswered attempt leaves behind (``retry_scheduled``, next attempt in 30
days): dialing 100,000 contacts first would take the bench an hour. A worker
and a beat then run for a while (ticks every 0.25 s, sweeps every 1 s).

Figures: the worker's RSS (main process and pool) after warm-up and at the
end; the messages Redis holds for it (queued, and reserved-but-unacked: where
ETA tasks would pile up); the tick's duration from the worker's own log, at
the start and at the end. The baseline is the same run with 1,000 waiting.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_state, process_tree, rss_bytes  # noqa: E402
from bench.import_contacts import phone_for  # noqa: E402
from dialer.statuses import Outcome, ParticipantStatus  # noqa: E402
from tests.support.scenario import campaign_spec  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_retries"
REDIS_URL = "redis://127.0.0.1:6379/11"
TICK_LINE = re.compile(r"Task dialer\.tick\[[^\]]+\] succeeded in ([0-9.]+)s")
QUEUES = ("dialer.dial", "dialer.results", "dialer.control", "celery")


def run(waiting: int, seconds: float) -> dict[str, float]:
    fresh_state(DATABASE_URL, REDIS_URL)
    workdir = Path(tempfile.mkdtemp(prefix="dialer-retries-"))
    path = workdir / "audience.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["phone", "name"])
        out.writerows([phone_for(i), f"c{i}"] for i in range(waiting))
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=1,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=0.25, sweep_seconds=1.0)
    try:
        client = stack.client()
        audience = client.create_audience("waiting", [])
        assert client.import_contacts(audience.id, path).imported == waiting
        campaign = client.create_campaign(campaign_spec(
            audience.id, retry={"max_retries": 3, "retry_delay_minutes": 1440}))
        # Every contact already tried once and waiting a month for its retry.
        with client.runtime.transaction() as session:
            session.execute(sa.text("""
                UPDATE participants SET status = :retry, attempts = 1,
                    last_outcome = :no_answer, next_attempt_at = :later
                WHERE campaign_id = :id"""),
                {"id": campaign.id, "retry": ParticipantStatus.RETRY_SCHEDULED,
                 "no_answer": Outcome.NO_ANSWER,
                 "later": client.runtime.clock.now() + timedelta(days=30)})
        client.start(campaign.id)
        worker = stack.start_worker(concurrency=2)
        stack.start_beat()
        broker = redis.Redis.from_url(REDIS_URL)
        log_path = Path(worker.log_path)  # type: ignore[attr-defined]

        def tick_seconds() -> list[float]:
            return [float(m) for m in TICK_LINE.findall(log_path.read_text())]

        wait_for(lambda: len(tick_seconds()) >= 20, timeout_s=60, what="20 ticks")
        rss_start = rss_bytes(process_tree(worker.pid))
        ticks_start = len(tick_seconds())
        time.sleep(seconds)  # the run itself: nothing is asserted on timing here
        rss_end = rss_bytes(process_tree(worker.pid))
        durations = tick_seconds()
        status = client.get(campaign.id).campaign.status
        held = {
            "queued": sum(broker.llen(q) for q in QUEUES),
            "unacked": broker.hlen("unacked"),
        }
    finally:
        stack.stop()
    path.unlink()
    first, last = durations[:20], durations[-20:]
    return {"rss_start_mb": rss_start / 1e6, "rss_end_mb": rss_end / 1e6,
            "ticks": len(durations) - ticks_start, "tick_first_ms": statistics.median(first) * 1e3,
            "tick_last_ms": statistics.median(last) * 1e3, "queued": held["queued"],
            "unacked": held["unacked"], "running": float(status == "running")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--quick", action="store_true", help="20 s per run")
    args = parser.parse_args()
    seconds = 20 if args.quick else args.seconds
    results = {n: run(n, seconds) for n in (args.baseline, args.waiting)}
    print(f"one worker -c 2, ticks every 0.25 s, sweeps every 1 s, {seconds:g} s per run")
    for n, r in results.items():
        print(f"{n:>8,} waiting: worker RSS {r['rss_start_mb']:.1f} -> {r['rss_end_mb']:.1f} MB "
              f"({r['rss_end_mb'] / r['rss_start_mb']:.3f}x) over {r['ticks']:.0f} ticks; "
              f"tick p50 {r['tick_first_ms']:.1f} -> {r['tick_last_ms']:.1f} ms; "
              f"messages held: {r['queued']:.0f} queued, {r['unacked']:.0f} unacked; "
              f"campaign running: {bool(r['running'])}")
    base, big = results[args.baseline], results[args.waiting]
    print(f"RSS growth ratio ({args.waiting:,} waiting)     = "
          f"{big['rss_end_mb'] / big['rss_start_mb']:.3f}   (flat = 1.0)")
    print(f"worker RSS {args.waiting:,} / {args.baseline:,} waiting = "
          f"{big['rss_end_mb'] / base['rss_end_mb']:.3f}")
    print(f"tick p50 {args.waiting:,} / {args.baseline:,} waiting  = "
          f"{big['tick_last_ms'] / base['tick_last_ms']:.3f}")


if __name__ == "__main__":
    main()
