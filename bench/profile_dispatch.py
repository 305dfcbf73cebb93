"""Where a dial and a result spend their time, in one process, without Celery.

    .venv/bin/python bench/profile_dispatch.py [--calls 400] [--html /tmp/dispatch.html]
        [--database-url postgresql+psycopg://.../dialer_bench_NAME] [--redis-url ...]

The tick queues N calls of a campaign with instant simulated calls; then
every dial and every result runs in this process through the service layer
(the same functions the tasks call), with a dispatcher that only collects
what would have been sent. Printed per call: wall milliseconds, SQL
statements, transactions and Redis round trips, for the dial and the result
separately; then pyinstrument's profile of both loops.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.common import fresh_state  # noqa: E402
from dialer.client import DialerClient  # noqa: E402
from dialer.providers.simulated import SimulatedProvider  # noqa: E402
from dialer.service.dial import dial  # noqa: E402
from dialer.service.results import record_result  # noqa: E402
from dialer.service.runtime import Runtime, build_runtime  # noqa: E402
from dialer.service.tick import tick  # noqa: E402
from dialer.settings import load_settings  # noqa: E402
from tests.support.scenario import campaign_spec, ny_contacts  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_profile"
REDIS_URL = "redis://127.0.0.1:6379/11"
SIM_START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))


@dataclass
class Collector:
    """A Dispatcher that keeps what it is asked to send."""

    dials: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        self.dials.append(call_id)

    def send_result(self, call_id: str, **kwargs: Any) -> None:
        kwargs.pop("countdown_s", None)
        self.results.append({"call_id": call_id, **kwargs})


@dataclass
class Counters:
    statements: int = 0
    commits: int = 0
    redis_calls: int = 0

    def snapshot(self) -> tuple[int, int, int]:
        return self.statements, self.commits, self.redis_calls


def instrument(rt: Runtime, counters: Counters) -> None:
    @event.listens_for(rt.engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        counters.statements += 1

    @event.listens_for(rt.engine, "commit")
    def _commit(*_: Any) -> None:
        counters.commits += 1

    # Every round trip of redis-py, pipelines included, goes through one of these.
    plain = rt.redis.execute_command

    def counted(*args: Any, **kwargs: Any) -> Any:
        counters.redis_calls += 1
        return plain(*args, **kwargs)

    rt.redis.execute_command = counted  # type: ignore[method-assign]
    pipeline_execute = redis.client.Pipeline.execute

    def counted_pipeline(self: Any, *args: Any, **kwargs: Any) -> Any:
        counters.redis_calls += 1
        return pipeline_execute(self, *args, **kwargs)

    redis.client.Pipeline.execute = counted_pipeline  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--profile", action="store_true",
                        help="sample with pyinstrument (its overhead inflates the timings)")
    parser.add_argument("--html", default=None, help="with --profile: also write HTML here")
    parser.add_argument("--quick", action="store_true", help="100 calls")
    parser.add_argument("--database-url", default=DATABASE_URL,
                        help="dropped and recreated (a dialer_bench_* database)")
    parser.add_argument("--redis-url", default=REDIS_URL, help="flushed (a bench db)")
    args = parser.parse_args()
    calls = 100 if args.quick else args.calls
    database_url, redis_url = args.database_url, args.redis_url
    fresh_state(database_url, redis_url)
    origin = f"{SIM_START.isoformat()}@{time.time():.6f}"
    settings = load_settings(database_url=database_url, redis_url=redis_url,
                             time_origin=origin, org_channel_cap=calls, tick_seconds=1.0)
    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    audience = client.create_audience("profile", ny_contacts([["answered"]] * calls, ring_s=0,
                                                             talk_s=0))
    campaign = client.create_campaign(campaign_spec(audience.id, pacing={"channels": calls}))
    client.start(campaign.id)
    client.close()

    collector = Collector()
    rt = build_runtime(settings, dispatcher=collector,
                       provider_factory=lambda r: SimulatedProvider.from_runtime(r))
    counters = Counters()
    tick(rt)  # warms the pool and rebuilds the (empty) leases; queues every call
    call_ids = list(collector.dials)
    assert len(call_ids) == calls, f"the tick queued {len(call_ids)} of {calls}"
    instrument(rt, counters)

    profiler = Profiler(interval=0.0005)
    if args.profile:
        profiler.start()
    before = counters.snapshot()
    started = time.perf_counter()
    outcomes = [dial(rt, call_id) for call_id in call_ids]
    dial_s = time.perf_counter() - started
    after_dial = counters.snapshot()
    started = time.perf_counter()
    for result in collector.results:
        record_result(rt, result["call_id"], outcome=result["outcome"],
                      duration_s=result["duration_s"], goal_achieved=result["goal_achieved"],
                      detail=result["detail"])
    result_s = time.perf_counter() - started
    after_result = counters.snapshot()
    if args.profile:
        profiler.stop()
    rt.close()

    assert outcomes.count("placed") == calls, outcomes[:5]
    n = float(calls)
    for name, wall_s, (s0, c0, r0), (s1, c1, r1) in (
            ("dial", dial_s, before, after_dial), ("result", result_s, after_dial, after_result)):
        print(f"{name:<7} {wall_s / n * 1000:6.2f} ms  {(s1 - s0) / n:5.1f} SQL statements  "
              f"{(c1 - c0) / n:4.1f} transactions  {(r1 - r0) / n:4.1f} Redis round trips")
    if not args.profile:
        return
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
