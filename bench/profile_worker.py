"""Where a real worker's time goes while it dials: py-spy on the prefork children.

    .venv/bin/python bench/profile_worker.py [--calls 3000] [--seconds 12] [--quick]

Same scenario as bench/worker_throughput.py (one worker -c 2, instant calls,
ample channels). py-spy samples the worker's processes for a while in the
middle of the run; the report is the share of samples (inclusive) under the
functions that matter, and the busiest frames (self time). Needs py-spy
(``pip install py-spy``) and the right to ptrace (root, or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_state  # noqa: E402
from tests.support.scenario import launch, ny_contacts, status_of  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_throughput"
REDIS_URL = "redis://127.0.0.1:6379/10"
AMPLE = 5000
# Inclusive shares are reported for frames whose function name is one of these.
WATCH = ("dial", "record_result", "tick", "sweep", "dispatch_campaign", "refill", "place_call",
         "send_task", "send_dial", "send_result", "execute", "commit", "acquire", "try_acquire",
         "release", "record", "emit", "handle", "send", "publish", "_execute_context",
         "trace_task", "on_success", "send_event", "cached_spec", "check_contact",
         "model_validate", "info")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--quick", action="store_true", help="1000 calls, 5 s of samples")
    args = parser.parse_args()
    calls, seconds = (1000, 5.0) if args.quick else (args.calls, args.seconds)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fresh_state(DATABASE_URL, REDIS_URL)
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=1,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=0.5, org_channel_cap=AMPLE)
    raw = Path(tempfile.mkdtemp(prefix="dialer-pyspy-")) / "worker.txt"
    try:
        worker = stack.start_worker(concurrency=2)
        stack.start_beat()
        client = stack.client()
        campaign_id = launch(client, ny_contacts([["answered"]] * calls, ring_s=0, talk_s=0),
                             pacing={"channels": AMPLE})
        wait_for(lambda: client.get(campaign_id).metrics.calls_placed > calls // 10,
                 timeout_s=120, what="dialing under way", interval_s=0.2)
        subprocess.run([py_spy, "record", "--format", "raw", "--subprocesses", "--nonblocking",
                        "--rate", "200", "-d", str(int(seconds)), "-o", str(raw),
                        "-p", str(worker.pid)], check=True, capture_output=True)
        wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=900,
                 what="campaign completed", interval_s=0.5)
    finally:
        stack.stop()
    report(raw)


def report(raw: Path) -> None:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or "trace_task" not in stack_text:
            # Only task execution in the pool's children: their idle frames wait on a pipe.
            continue
        count = int(count_text)
        total += count
        frames = stack_text.split(";")
        seen = set()
        for frame in frames:
            name = frame.split(" (")[0]
            if name in WATCH and name not in seen:
                seen.add(name)
                inclusive[f"{name} ({frame.split(' (')[1].split(':')[0].split('/')[-1]}"] += count
        self_time[frames[-1]] += count
    print(f"{total} busy samples of the worker's children")
    print("inclusive share of busy samples:")
    for name, count in inclusive.most_common(30):
        print(f"  {count / total:6.1%}  {name})")
    print("top frames by self time:")
    for frame, count in self_time.most_common(20):
        print(f"  {count / total:6.1%}  {frame[:130]}")


if __name__ == "__main__":
    main()
