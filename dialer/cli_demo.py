"""``dialer demo``: a simulated campaign on the real stack, with live progress.

It starts its own worker and beat as subprocesses, on a database and Redis
db of its own (``<db>_demo``, Redis db 9) so that it never touches real
campaigns, runs an accelerated clock, and prints the metrics at the end.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.engine import make_url

from dialer.client import DialerClient
from dialer.service import orgs
from dialer.service.runtime import make_redis
from dialer.settings import load_settings
from dialer.statuses import PARTICIPANT_TERMINAL
from dialer.views import CampaignDetail

# A Tuesday, 09:00 on the west coast: every contact's own 09:00-18:00 window
# is open from New York to Seattle, so the whole audience dials at once.
DEMO_START = datetime.fromisoformat("2026-03-03T09:00:00-08:00")
NEW_YORK = ZoneInfo("America/New_York")
AREA_CODES = ("212", "415", "312", "305", "206", "617", "512", "303")


def demo_env(time_scale: float) -> dict[str, str]:
    base = load_settings()
    url = make_url(base.database_url)
    database_url = url.set(database=f"{url.database or 'dialer'}_demo").render_as_string(
        hide_password=False)
    redis_url = base.redis_url.rsplit("/", 1)[0] + "/9"
    env = dict(os.environ)
    env.update({
        "DIALER_DATABASE_URL": database_url,
        "DIALER_REDIS_URL": redis_url,
        "DIALER_BROKER_URL": redis_url,
        "DIALER_PROVIDER": "simulated",
        "DIALER_TIME_SCALE": str(time_scale),
        "DIALER_TIME_ORIGIN": f"{DEMO_START.isoformat()}@{time.time():.3f}",
        "DIALER_TICK_SECONDS": "0.5",
        "DIALER_SWEEP_SECONDS": "2",
        "DIALER_SIM_SEED": "7",
        "DIALER_SIM_TALK_S": "[30, 240]",
    })
    return env


def demo_contacts(count: int) -> list[dict]:
    rng = random.Random(42)
    contacts = []
    for index in range(count):
        area = AREA_CODES[index % len(AREA_CODES)]
        contacts.append({"phone": f"+1{area}555{index:04d}",
                         "name": f"Contact {index + 1}",
                         "attributes": {"segment": rng.choice(["renewal", "winback"])}})
    return contacts


def run_demo(*, contacts: int, channels: int, time_scale: float, workers: int,
             console: Console, console_port: int | None = None) -> int:
    from models.db import upgrade

    env = demo_env(time_scale)
    upgrade(env["DIALER_DATABASE_URL"])
    with make_redis(load_settings(redis_url=env["DIALER_REDIS_URL"])) as demo_redis:
        demo_redis.flushdb()
    processes = _start_processes(env, workers)
    client = DialerClient(database_url=env["DIALER_DATABASE_URL"],
                          redis_url=env["DIALER_REDIS_URL"], time_scale=time_scale,
                          time_origin=env["DIALER_TIME_ORIGIN"], source="manual")
    try:
        if console_port is not None:
            processes.append(_start_api(env, console_port))
            _, key = orgs.create_api_key(client.runtime, client.org.name, label="demo")
            console.print(f"[bold]Console:[/bold] http://127.0.0.1:{console_port}/console "
                          f"— sign in with the API key {key}")
        audience = client.create_audience("Demo audience", demo_contacts(contacts))
        number = _caller_id(client)
        campaign = client.create_campaign({
            "name": "Demo renewals", "agent_id": "demo-agent", "audience_id": audience.id,
            "phone_number_ids": [number], "timezone": "America/New_York",
            "schedule": {"call_window": {"start": "09:00", "end": "18:00"},
                         "allowed_days": ["mon", "tue", "wed", "thu", "fri"]},
            "pacing": {"channels": channels},
            "call_handling": {"ring_timeout_s": 25, "max_duration_s": 300},
            "retry": {"max_retries": 2, "retry_delay_minutes": 10},
            "safety": {"circuit_breaker": {"enabled": True, "failure_rate": 0.6,
                                           "min_calls": 30, "window": 60}},
        })
        console.print(f"[bold]Demo:[/bold] {audience.count} contacts, {channels} channels, "
                      f"clock x{time_scale:g} (1 real second = {time_scale:g} simulated seconds)")
        client.start(campaign.id)
        started = time.monotonic()
        status = _watch(client, campaign.id, console)
        detail = client.get(campaign.id)
        console.print()  # off a terminal, the live display's last line has no newline
        console.print(_summary(detail, time.monotonic() - started))
        if console_port is not None:
            _keep_console_up(console, console_port)
        return 0 if status == "completed" else 1
    finally:
        client.close()
        _stop_processes(processes)


def _caller_id(client: DialerClient) -> str:
    for number in client.phone_numbers():
        if number.number == "+12125550100":
            return number.id
    return client.add_phone_number("+12125550100").id


def _start_processes(env: dict[str, str], workers: int) -> list[subprocess.Popen]:
    logdir = Path(tempfile.mkdtemp(prefix="dialer-demo-"))
    common = [sys.executable, "-m", "celery", "-A", "workers.app"]
    procs = [subprocess.Popen(
        [*common, "worker", "-c", str(max(2, workers * 2)), "-P", "prefork", "-n",
         f"demo{index}@%h", "--loglevel", "WARNING"],
        env=env, stdout=_log(logdir / f"worker{index}.log"), stderr=subprocess.STDOUT,
        start_new_session=True) for index in range(workers)]
    procs.append(subprocess.Popen(
        [*common, "beat", "-s", str(logdir / "beat-schedule"), "--loglevel", "WARNING"],
        env=env, stdout=_log(logdir / "beat.log"), stderr=subprocess.STDOUT,
        start_new_session=True))
    return procs


def _start_api(env: dict[str, str], port: int) -> subprocess.Popen:
    logdir = Path(tempfile.mkdtemp(prefix="dialer-demo-api-"))
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "dialer.api:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=_log(logdir / "api.log"), stderr=subprocess.STDOUT,
        start_new_session=True)


def _keep_console_up(console: Console, port: int) -> None:
    """The campaign is done; its console, analytics and call log stay open to look at."""
    console.print(f"The console stays up at http://127.0.0.1:{port}/console: Ctrl-C to stop.")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a SIGTERM too stops the worker, beat and API it started

    signal.signal(signal.SIGTERM, interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print()


def _log(path: Path) -> IO[str]:
    # The child writes to it for its whole life; it closes when the child ends.
    return path.open("w")


def _stop_processes(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _watch(client: DialerClient, campaign_id: str, console: Console) -> str:
    progress = Progress(TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total} contacts done"))
    bar = progress.add_task("progress", total=1)
    with Live(console=console, refresh_per_second=4) as live:
        while True:
            detail = client.get(campaign_id)
            metrics = detail.metrics
            done = sum(metrics.by_status.get(s, 0) for s in PARTICIPANT_TERMINAL)
            progress.update(bar, total=metrics.total_participants, completed=done,
                            description=f"[cyan]{client.now().astimezone(NEW_YORK):%a %H:%M} "
                                        f"New York (simulated)[/cyan] "
                                        f"{detail.campaign.status}")
            live.update(Group(progress, _table(detail)))
            if detail.campaign.status not in ("running", "scheduled"):
                return detail.campaign.status
            time.sleep(0.5)


def _table(detail: CampaignDetail) -> Table:
    m = detail.metrics
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("in flight / channels")
    table.add_column("placed")
    table.add_column("connected")
    table.add_column("outcomes")
    table.add_column("contacts by status")
    table.add_row(f"{m.in_progress} / {detail.campaign.channels}", str(m.calls_placed),
                  str(m.contacts_connected),
                  ", ".join(f"{k} {v}" for k, v in sorted(m.outcomes.items())),
                  ", ".join(f"{k} {v}" for k, v in sorted(m.by_status.items())))
    return table


def _summary(detail: CampaignDetail, elapsed_s: float) -> Table:
    m = detail.metrics
    table = Table(title=f"Campaign {detail.campaign.status} in {elapsed_s:.1f} s real time")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("total_participants", "contacts_called", "contacts_connected", "calls_placed"):
        table.add_row(key, str(getattr(m, key)))
    for outcome, count in sorted(m.outcomes.items()):
        table.add_row(f"outcome {outcome}", str(count))
    for status, count in sorted(m.by_status.items()):
        table.add_row(f"status {status}", str(count))
    for execution in detail.campaign.executions:
        table.add_row(f"execution {execution.execution_number}",
                      f"{execution.status}: {execution.processed_members}/"
                      f"{execution.total_members} processed")
    return table
