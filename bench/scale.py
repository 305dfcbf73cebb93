"""Scale: time from ``start`` to the first 50 calls, at 1,000 and at 200,000 contacts.

    .venv/bin/python bench/scale.py [--small 1000] [--large 200000] [--trials 5] [--quick]

The audiences are loaded through ``DialerClient.import_contacts`` (the COPY
path). For each size, several campaigns are created on the same audience and
started one after another (each stopped before the next); the figure is the
median, over trials, of the real seconds from calling ``start`` to the 50th
``place_call`` in the recording provider's ledger. The small audience is the
baseline: the ratio large / small must stay <= 1.2, i.e. what the tick reads
per run depends on the batch, not on the audience.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_state  # noqa: E402
from bench.import_contacts import phone_for  # noqa: E402
from dialer.client import DialerClient  # noqa: E402
from tests.support.recording import read_ledger  # noqa: E402
from tests.support.scenario import campaign_spec  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_scale"
REDIS_URL = "redis://127.0.0.1:6379/11"
FIRST = 50


def load_audience(client: DialerClient, size: int, workdir: Path) -> str:
    path = workdir / f"audience-{size}.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["phone", "name", "sim_outcomes", "sim_ring_s", "sim_duration_s"])
        for index in range(size):
            out.writerow([phone_for(index), f"c{index}", "answered", "1", "60"])
    audience = client.create_audience(f"scale {size}", [])
    started = time.perf_counter()
    report = client.import_contacts(audience.id, path)
    assert report.imported == size, (report.imported, report.rejected[:3])
    print(f"  imported {size:,} contacts in {time.perf_counter() - started:.1f} s")
    path.unlink()
    return audience.id


def seconds_to_first_calls(client: DialerClient, ledger: redis.Redis,
                           audience_id: str) -> tuple[float, float]:
    """(start -> 50th call, of which the ``start`` call itself), real seconds."""
    campaign = client.create_campaign(campaign_spec(
        audience_id, name="scale", pacing={"channels": FIRST},
        call_handling={"ring_timeout_s": 10, "max_duration_s": 120}))
    started = time.time()
    client.start(campaign.id)
    start_call_s = time.time() - started

    def placed() -> list[float]:
        return sorted(e.start for e in read_ledger(ledger) if e.campaign_id == campaign.id)

    stamps = wait_for(lambda: (s := placed()) and len(s) >= FIRST and s, timeout_s=120,
                      what=f"{FIRST} calls placed", interval_s=0.02)
    client.stop(campaign.id)
    return stamps[FIRST - 1] - started, start_call_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--trials", type=int, default=9)
    parser.add_argument("--tick-s", type=float, default=0.25)
    parser.add_argument("--quick", action="store_true", help="large = 20,000, 3 trials")
    args = parser.parse_args()
    large, trials = (20_000, 3) if args.quick else (args.large, args.trials)
    fresh_state(DATABASE_URL, REDIS_URL)
    workdir = Path(tempfile.mkdtemp(prefix="dialer-scale-"))
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=1,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=args.tick_s, sweep_seconds=2.0, org_channel_cap=1000)
    results: dict[int, list[float]] = {}
    start_calls: dict[int, list[float]] = {}
    try:
        stack.start_worker(concurrency=2)
        stack.start_beat()
        client = stack.client()
        ledger = redis.Redis.from_url(REDIS_URL)
        audiences = {size: load_audience(client, size, workdir) for size in (args.small, large)}
        for trial in range(trials):
            # Alternate, so that anything drifting over the run weighs on both sizes alike.
            for size in ((args.small, large) if trial % 2 == 0 else (large, args.small)):
                total_s, start_call_s = seconds_to_first_calls(client, ledger, audiences[size])
                results.setdefault(size, []).append(total_s)
                start_calls.setdefault(size, []).append(start_call_s)
    finally:
        stack.stop()
    small_s = statistics.median(results[args.small])
    large_s = statistics.median(results[large])
    print(f"tick {args.tick_s:g} s, {trials} trials per size, one worker -c 2")
    for size in (args.small, large):
        print(f"{size:>8,} contacts: start -> {FIRST}th call, median s = "
              f"{statistics.median(results[size]):.3f}  "
              f"(trials {', '.join(f'{s:.3f}' for s in results[size])}); "
              f"of which start() {statistics.median(start_calls[size]):.3f}")
    print(f"ratio large / small          = {large_s / small_s:.3f}   (target <= 1.2)")


if __name__ == "__main__":
    main()
