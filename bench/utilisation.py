"""Utilisation: 20 channels, 2-second calls, 300 contacts, real time.

    .venv/bin/python bench/utilisation.py [--contacts 300] [--channels 20] [--call-s 2] [--quick]

The baseline is the ideal makespan, computed: contacts / channels x call
length (30 s). From the recording provider's own ledger (real instants each
call started and was due to end): the measured makespan (first placement to
last end), ideal / measured (target >= 0.95), and the gap between a call
ending and the next placement on that channel. Channels are anonymous, so
each placement is matched to the channel freed longest ago (first in, first
out); the sum of the gaps does not depend on that choice. Gaps include the
result's delivery (the simulated provider's countdown), its processing, the
refill that queues the next call, and that dial.
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_state  # noqa: E402
from tests.support.recording import max_overlap, read_ledger  # noqa: E402
from tests.support.scenario import assert_ledger_sane, launch, ny_contacts, status_of  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_utilisation"
REDIS_URL = "redis://127.0.0.1:6379/11"


def channel_gaps(entries: list[tuple[float, float]]) -> list[float]:
    """Seconds each channel stood idle between a call's end and its next placement."""
    free: list[float] = []  # end instants of calls whose channel is free again
    busy: list[float] = []  # end instants of calls in progress
    gaps = []
    for start, end in sorted(entries):
        while busy and busy[0] <= start:
            heapq.heappush(free, heapq.heappop(busy))
        if free:
            gaps.append(start - heapq.heappop(free))
        heapq.heappush(busy, end)
    return gaps


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--call-s", type=float, default=2.0)
    parser.add_argument("--tick-s", type=float, default=1.0, help="DIALER_TICK_SECONDS")
    parser.add_argument("--concurrency", type=int, default=2, help="worker -c")
    parser.add_argument("--quick", action="store_true", help="100 contacts")
    args = parser.parse_args()
    contacts = 100 if args.quick else args.contacts
    fresh_state(DATABASE_URL, REDIS_URL)
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=1,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=args.tick_s, sweep_seconds=5.0)
    try:
        stack.start_worker(concurrency=args.concurrency)
        stack.start_beat()
        client = stack.client()
        campaign_id = launch(client, ny_contacts([["answered"]] * contacts, ring_s=0,
                                                 talk_s=args.call_s),
                             pacing={"channels": args.channels})
        wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=600,
                 what="campaign completed", interval_s=0.5)
        ledger = read_ledger(redis.Redis.from_url(REDIS_URL))
    finally:
        stack.stop()
    assert_ledger_sane(ledger, max_attempts=3)
    assert len(ledger) == contacts, f"{len(ledger)} calls for {contacts} contacts"
    peak = max_overlap(ledger)
    assert peak <= args.channels, f"{peak} calls at once on {args.channels} channels"
    entries = [(e.start, e.end) for e in ledger]
    makespan = max(end for _, end in entries) - min(start for start, _ in entries)
    ideal = contacts / args.channels * args.call_s
    gaps = channel_gaps(entries)
    print(f"{contacts} contacts, {args.channels} channels, {args.call_s:g} s calls, "
          f"tick {args.tick_s:g} s, one worker -c {args.concurrency}")
    print(f"ideal makespan (baseline) s  = {ideal:8.2f}")
    print(f"measured makespan s          = {makespan:8.2f}")
    print(f"ideal / measured             = {ideal / makespan:8.3f}   (target >= 0.95)")
    print(f"most calls at once           = {peak:8d}   (channels {args.channels})")
    print(f"channel gap p50 / p99 / max ms = {percentile(gaps, 0.5) * 1000:.0f} / "
          f"{percentile(gaps, 0.99) * 1000:.0f} / {max(gaps) * 1000:.0f}"
          f"   (mean {statistics.fmean(gaps) * 1000:.0f}, {len(gaps)} gaps)")


if __name__ == "__main__":
    main()
