"""Achieved placement rate against the calls-per-minute cap, on the real stack.

    .venv/bin/python bench/pacing_rate.py [--cap 30] [--contacts 200] [--workers 2] \
        [--time-scale 10] [--quick]

Two workers place calls for a campaign capped at N calls per minute with
ample channels; the figures are the placements in every full simulated
minute and in the busiest 60 seconds, as ratios of the cap (the cap itself
is the baseline: a ratio of 1.0 is exactly as fast as allowed).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_state  # noqa: E402
from tests.support.scenario import launch, ny_contacts, status_of  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_pacing"
REDIS_URL = "redis://127.0.0.1:6379/11"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cap", type=int, default=30)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    # At 60x a few ms of task latency are seconds of simulated jitter against a
    # 2-second gap; 10x keeps the scenario short and the jitter realistic.
    parser.add_argument("--time-scale", type=float, default=10)
    parser.add_argument("--quick", action="store_true", help="70 contacts (about 2 minutes)")
    args = parser.parse_args()
    if args.quick:
        args.contacts = 70
    fresh_state(DATABASE_URL, REDIS_URL)
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=args.time_scale,
                  sim_start=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=1.0)
    try:
        for _ in range(args.workers):
            stack.start_worker(concurrency=3)
        stack.start_beat()
        client = stack.client()
        campaign_id = launch(client, ny_contacts([["answered"]] * args.contacts, ring_s=2,
                                                 talk_s=8),
                             pacing={"channels": 100, "calls_per_minute": args.cap})
        wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=900,
                 what="campaign completed")
        stamps = sorted(c.placed_at.timestamp() for c in client.calls(campaign_id))
    finally:
        stack.stop()
    per_minute = []
    minute = stamps[0]
    while minute + 60 <= stamps[-1]:
        per_minute.append(sum(1 for t in stamps if minute <= t < minute + 60))
        minute += 60
    busiest = max(sum(1 for t in stamps[i:] if t < start + 60) for i, start in enumerate(stamps))
    span_min = (stamps[-1] - stamps[0]) / 60
    print(f"cap {args.cap}/min, {len(stamps)} calls, {args.workers} workers x 3 processes")
    print(f"full minutes: {per_minute}")
    print(f"lowest full minute / cap   = {min(per_minute) / args.cap:.3f}")
    print(f"mean rate / cap            = {(len(stamps) - 1) / span_min / args.cap:.3f}")
    print(f"busiest 60 s / cap         = {busiest / args.cap:.3f}  (must be <= 1)")


if __name__ == "__main__":
    main()
