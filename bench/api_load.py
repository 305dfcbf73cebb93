"""API load: read endpoints under concurrent clients while a campaign dials.

    .venv/bin/python bench/api_load.py [--clients 8] [--rounds 4] [--phase-s 20]
        [--contacts 3000] [--channels 20] [--call-s 4] [--api-nice 0] [--py-spy FILE] [--quick]

A real stack (one Celery worker ``-c 2`` and beat, the simulated provider at
time scale 10) and a real uvicorn serving ``dialer.api:app`` on 127.0.0.1. One
campaign of 3,000 contacts dials on 20 channels, every call 4 real seconds (40
simulated), for the whole measurement: at most 5 calls/s, which this machine
sustains with CPU to spare, as a dialer does whose calls last minutes (with
``--call-s 1`` the dialer is CPU-bound instead and the ratio is the share of
the two cores the API takes from it). The dialing throughput
(calls placed per real second, counted in PostgreSQL) is measured in
alternating phases: baseline (no API traffic) and loaded (``--clients``
concurrent clients, each sending its next request as soon as the last one is
answered, over the mix of read endpoints below, authenticated with an API key).
Phases run in the order B L L B B L ... so that a linear drift cancels.
``--api-nice 19`` runs the API and the load generator at the lowest priority,
as a deployment that shares the workers' cores would (bench/RESULTS.md).

Prints, per endpoint and overall, requests/s, p50 and p99 latency and the
count of answers that were not 2xx (must be 0), the CPU each process group
used per phase, and the ratio loaded / baseline of calls placed per second
(target >= 0.90). Exits 1 if any request failed or the campaign ran dry.
The Redis server and database are the other benchmarks' unless
``BENCH_LOAD_REDIS_URL`` / ``BENCH_LOAD_DATABASE_URL`` say otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, fresh_state, pids_named, process_tree  # noqa: E402
from dialer.client import DialerClient  # noqa: E402
from dialer.service import orgs  # noqa: E402
from tests.support.api_server import ApiServer  # noqa: E402
from tests.support.scenario import campaign_spec, ny_contacts  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_LOAD_DATABASE_URL",
                              "postgresql+psycopg://127.0.0.1:5432/dialer_bench_load")
REDIS_URL = os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/10")
TIME_SCALE = 10.0
SETTLE_S = 1.0  # after a phase change, before its window opens
WARMUP_S = 8.0
ENDPOINTS = ["list campaigns", "get campaign", "participants", "calls", "events", "readiness"]


def paths(campaign_id: str) -> dict[str, str]:
    base = f"/v1/campaigns/{campaign_id}"
    return {"list campaigns": "/v1/campaigns", "get campaign": base,
            "participants": f"{base}/participants", "calls": f"{base}/calls",
            "events": f"{base}/events", "readiness": f"{base}/readiness"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else math.nan


@dataclass
class Requests:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


async def hammer(client: httpx.AsyncClient, routes: dict[str, str], start: int,
                 stop: asyncio.Event, out: Requests) -> None:
    """One closed-loop client: the next request as soon as the last one is answered."""
    index = start
    while not stop.is_set():
        name = ENDPOINTS[index % len(ENDPOINTS)]
        index += 1
        began = time.perf_counter()
        try:
            response = await client.get(routes[name])
            await response.aread()
        except httpx.HTTPError as exc:
            out.failures[name].append(f"{type(exc).__name__}: {exc}")
            continue
        out.latencies[name].append(time.perf_counter() - began)
        if not 200 <= response.status_code < 300:
            out.failures[name].append(f"{response.status_code}: {response.text[:200]}")


class Meter:
    """CPU seconds per process group (processes born later count from zero)."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self._groups = groups
        self.totals: dict[str, float] = defaultdict(float)

    def snapshot(self) -> dict[int, float]:
        return {pid: cpu_seconds([pid]) for pid in self._pids()}

    def _pids(self) -> list[int]:
        return [pid for pids in self._resolved().values() for pid in pids]

    def _resolved(self) -> dict[str, list[int]]:
        return {"api": process_tree(self._groups["api"][0]),
                "worker": [p for w in self._groups["worker"] for p in process_tree(w)],
                "beat": self._groups["beat"], "postgres": pids_named("postgres"),
                "redis": pids_named("redis-server"), "bench": [os.getpid()]}

    def add(self, before: dict[int, float]) -> None:
        for name, pids in self._resolved().items():
            self.totals[name] += sum(cpu_seconds([p]) - before.get(p, 0.0) for p in pids)


def renice(pid: int, niceness: int) -> None:
    """Every thread of ``pid`` (on Linux a niceness is per thread; new ones inherit it),
    and its session's autogroup: with ``sched_autogroup_enabled`` the scheduler first
    shares the cores between sessions, so a thread's niceness alone changes nothing
    against the workers (each stack process runs in a session of its own)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.setpriority(os.PRIO_PROCESS, int(task.name), niceness)
    autogroup = Path(f"/proc/{pid}/autogroup")
    if autogroup.exists():
        autogroup.write_text(str(niceness))


def endpoint_costs(server: ApiServer, key: str, campaign_id: str, repeat: int
                   ) -> dict[str, tuple[float, float, int]]:
    """One client, one request at a time: per endpoint the median latency, the API
    process's CPU per request and the response size (what each request costs)."""
    costs = {}
    with server.client(key) as http:
        for name, path in paths(campaign_id).items():
            http.get(path).raise_for_status()  # warm
            latencies = []
            cpu_before = cpu_seconds([server.proc.pid])
            for _ in range(repeat):
                began = time.perf_counter()
                response = http.get(path)
                latencies.append(time.perf_counter() - began)
                response.raise_for_status()
            cpu = (cpu_seconds([server.proc.pid]) - cpu_before) / repeat
            costs[name] = (percentile(latencies, 0.5), cpu, len(response.content))
    return costs


def placed_count(engine: sa.Engine, campaign_id: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM calls WHERE campaign_id = :c AND placed_at IS NOT NULL"),
            {"c": campaign_id}).scalar_one())


@dataclass
class Phase:
    kind: str  # "baseline" or "loaded"
    seconds: float
    calls: int

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


async def run_phases(server: ApiServer, key: str, campaign_id: str, engine: sa.Engine,
                     args: argparse.Namespace, meters: dict[str, Meter]
                     ) -> tuple[list[Phase], Requests, float]:
    routes = paths(campaign_id)
    if args.api_nice:
        # The load generator too: it stands for clients on other machines.
        renice(os.getpid(), args.api_nice)
    requests = Requests()
    loaded_wall = 0.0
    order = [k for r in range(args.rounds)
             for k in (("baseline", "loaded") if r % 2 == 0 else ("loaded", "baseline"))]
    phases: list[Phase] = []
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60,
                                 headers={"Authorization": f"Bearer {key}"}) as http:
        for kind in order:
            stop = asyncio.Event()
            tasks = []
            began = time.perf_counter()
            if kind == "loaded":
                tasks = [asyncio.create_task(hammer(http, routes, i, stop, requests))
                         for i in range(args.clients)]
            await asyncio.sleep(SETTLE_S)
            cpu_before = await asyncio.to_thread(meters[kind].snapshot)
            count_before = await asyncio.to_thread(placed_count, engine, campaign_id)
            window_began = time.perf_counter()
            spy = None
            if kind == "loaded" and args.py_spy and not any(p.kind == kind for p in phases):
                spy = await asyncio.create_subprocess_exec(
                    str(Path(sys.executable).with_name("py-spy")), "record", "--format", "raw",
                    "--nonblocking", "--rate", "100", "-d", str(int(args.phase_s)), "-o",
                    args.py_spy, "-p", str(server.proc.pid), "--idle",
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(args.phase_s)
            if spy is not None:
                await spy.wait()
            count_after = await asyncio.to_thread(placed_count, engine, campaign_id)
            window = time.perf_counter() - window_began
            await asyncio.to_thread(meters[kind].add, cpu_before)
            stop.set()
            await asyncio.gather(*tasks)
            if kind == "loaded":
                loaded_wall += time.perf_counter() - began
            phase = Phase(kind, window, count_after - count_before)
            phases.append(phase)
            print(f"  {kind:8s} {phase.rate:6.2f} calls/s ({phase.calls} in {window:.1f} s)",
                  flush=True)
    return phases, requests, loaded_wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients")
    parser.add_argument("--rounds", type=int, default=4, help="baseline+loaded pairs")
    parser.add_argument("--phase-s", type=float, default=20.0, help="seconds measured per phase")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=3000)
    parser.add_argument("--call-s", type=float, default=4.0, help="real seconds per call")
    parser.add_argument("--concurrency", type=int, default=2, help="worker -c")
    parser.add_argument("--repeat", type=int, default=20,
                        help="sequential requests per endpoint for the cost table")
    parser.add_argument("--py-spy", metavar="FILE", help="record the API process with py-spy "
                        "during the first loaded phase (raw collapsed stacks into FILE)")
    parser.add_argument("--api-nice", type=int, default=0,
                        help="run the API process and this load generator at this niceness")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 10 s phases")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.phase_s = 2, 10.0
    if args.api_nice:
        # A session of its own, so that renicing the load generator's autogroup below
        # touches nothing else.
        with contextlib.suppress(OSError):
            os.setsid()
    total_s = WARMUP_S + 2 * args.rounds * (args.phase_s + SETTLE_S + 1)
    # Every phase must dial at full speed: more contacts than the channels can call.
    contacts = max(args.contacts, math.ceil(args.channels / args.call_s * total_s * 1.25))
    assert contacts <= 10_000, f"{contacts} contacts: ny_contacts numbers run out at 10,000"

    fresh_state(DATABASE_URL, REDIS_URL)
    stack = Stack(database_url=DATABASE_URL, redis_url=REDIS_URL, time_scale=TIME_SCALE,
                  sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")),
                  tick_seconds=0.5, sweep_seconds=5.0, org_channel_cap=max(100, args.channels),
                  provider="simulated")
    server = None
    exit_code = 0
    try:
        worker = stack.start_worker(concurrency=args.concurrency)
        beat = stack.start_beat()
        server = ApiServer(stack.env)
        if args.api_nice:
            renice(server.proc.pid, args.api_nice)
        client: DialerClient = stack.client()
        _, key = orgs.create_api_key(client.runtime, "default", label="api load bench")
        audience = client.create_audience("load", ny_contacts(
            [["answered"]] * contacts, ring_s=0, talk_s=args.call_s * TIME_SCALE))
        assert not audience.rejected, audience.rejected[:3]
        # A few other campaigns, so that the list is not a list of one.
        for index in range(5):
            client.create_campaign(campaign_spec(audience.id, name=f"draft {index}"))
        campaign = client.create_campaign(campaign_spec(
            audience.id, name="load", pacing={"channels": args.channels}))
        client.start(campaign.id)
        engine = sa.create_engine(DATABASE_URL, pool_size=1)
        wait_for(lambda: placed_count(engine, campaign.id) > args.channels, timeout_s=60,
                 what="dialing under way")
        time.sleep(WARMUP_S)
        costs = endpoint_costs(server, key, campaign.id, args.repeat)
        groups = {"api": [server.proc.pid], "worker": [worker.pid], "beat": [beat.pid]}
        meters = {"baseline": Meter(groups), "loaded": Meter(groups)}
        print(f"{contacts} contacts, {args.channels} channels, {args.call_s:g} s calls "
              f"(time scale {TIME_SCALE:g}), one worker -c {args.concurrency}, "
              f"{args.clients} API clients, {args.rounds} rounds of {args.phase_s:g} s phases, "
              f"{os.cpu_count()} CPUs")
        phases, requests, loaded_wall = asyncio.run(
            run_phases(server, key, campaign.id, engine, args, meters))
        detail = client.get(campaign.id)
        still_waiting = detail.metrics.by_status.get("pending", 0) + detail.metrics.by_status.get(
            "retry_scheduled", 0)
        status = detail.campaign.status
        # Not stopped: the stack goes down with it and the next run drops the database.
        engine.dispose()
    finally:
        if server is not None:
            server.stop()
        stack.stop()

    print()
    print("one request at a time (dialing meanwhile), per endpoint: "
          "p50 ms / API CPU ms per request / response bytes")
    for name, (p50, cpu, size) in costs.items():
        print(f"  {name:16s} {p50 * 1000:7.1f} {cpu * 1000:7.1f} {size:9,d}")
    base = [p for p in phases if p.kind == "baseline"]
    loaded = [p for p in phases if p.kind == "loaded"]
    base_rate = sum(p.calls for p in base) / sum(p.seconds for p in base)
    loaded_rate = sum(p.calls for p in loaded) / sum(p.seconds for p in loaded)
    print()
    print(f"{'endpoint':16s} {'requests':>8s} {'req/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'errors':>6s}")
    everything: list[float] = []
    errors = 0
    for name in ENDPOINTS:
        lat = requests.latencies[name]
        everything += lat
        errors += len(requests.failures[name])
        print(f"{name:16s} {len(lat):8d} {len(lat) / loaded_wall:7.1f} "
              f"{percentile(lat, 0.5) * 1000:7.1f} {percentile(lat, 0.99) * 1000:7.1f} "
              f"{len(requests.failures[name]):6d}")
    print(f"{'all':16s} {len(everything):8d} {len(everything) / loaded_wall:7.1f} "
          f"{percentile(everything, 0.5) * 1000:7.1f} "
          f"{percentile(everything, 0.99) * 1000:7.1f} {errors:6d}")
    print()
    for kind, meter in meters.items():
        seconds = sum(p.seconds for p in phases if p.kind == kind)
        print(f"CPU cores used, {kind:8s}: " + ", ".join(
            f"{name} {used / seconds:.2f}" for name, used in meter.totals.items()))
    print(f"calls placed/s, baseline phases: {' / '.join(f'{p.rate:.2f}' for p in base)}")
    print(f"calls placed/s, loaded phases  : {' / '.join(f'{p.rate:.2f}' for p in loaded)}")
    print(f"calls placed/s baseline = {base_rate:.2f}, loaded = {loaded_rate:.2f}")
    print(f"loaded / baseline       = {loaded_rate / base_rate:.3f}   (target >= 0.90)")
    for name, failures in requests.failures.items():
        for failure in failures[:3]:
            print(f"FAILED {name}: {failure}")
    if errors:
        exit_code = 1
    if status != "running" or not still_waiting:
        print(f"the campaign ran dry ({status}, {still_waiting} waiting): not a full-speed run")
        exit_code = 1
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
