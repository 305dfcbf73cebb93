"""The real stack for integration tests: Celery workers and beats as subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from dialer.client import DialerClient
from tests.support.recording import LEDGER_URL_ENV, Ledger, with_db

ROOT = Path(__file__).resolve().parents[2]
RECORDING_PROVIDER = "tests.support.recording:RecordingProvider"
BROKER_URL_ENV = "DIALER_TEST_BROKER_URL"


def broker_url(redis_url: str) -> str:
    """The stack's Celery broker: ``DIALER_TEST_BROKER_URL`` when set (the
    chaos tier runs again with RabbitMQ), else another db of the stack's Redis."""
    return os.environ.get(BROKER_URL_ENV) or stack_broker_url(redis_url)


# The broker's Redis db, beside the coordination db of the stack (13 by default)
# and the recording provider's ledger (15): the layout docs/deployment.md advises.
BROKER_DB = 12


def stack_broker_url(redis_url: str) -> str:
    """The stack's broker: another db of the coordination Redis server."""
    return with_db(redis_url, BROKER_DB)


def _empty_broker(broker_url: str) -> None:
    if broker_url.startswith(("redis://", "rediss://")):
        client = redis.Redis.from_url(broker_url)
        client.flushdb()
        client.close()


class Stack:
    def __init__(self, *, database_url: str, redis_url: str, sim_start: datetime,
                 time_scale: float, tick_seconds: float = 0.25, sweep_seconds: float = 1.0,
                 org_channel_cap: int = 100, provider: str = RECORDING_PROVIDER,
                 extra_env: dict[str, str] | None = None, lead_s: float = 0.0) -> None:
        # The simulated clock reaches ``sim_start`` ``lead_s`` real seconds from
        # now, about when the workers are up: at 600x, a worker's start-up
        # would otherwise eat half an hour of the scenario.
        self.logdir = Path(tempfile.mkdtemp(prefix="dialer-stack-"))
        self.env = dict(os.environ)
        self.env.update({
            "DIALER_DATABASE_URL": database_url,
            "DIALER_REDIS_URL": redis_url,
            "DIALER_BROKER_URL": broker_url(redis_url),
            "DIALER_PROVIDER": provider,
            "DIALER_TIME_SCALE": str(time_scale),
            "DIALER_TIME_ORIGIN": f"{sim_start.isoformat()}@{time.time() + lead_s:.6f}",
            "DIALER_TICK_SECONDS": str(tick_seconds),
            "DIALER_SWEEP_SECONDS": str(sweep_seconds),
            "DIALER_ORG_CHANNEL_CAP": str(org_channel_cap),
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        })
        # Tasks left over from an earlier stack must not reach this one's workers.
        _empty_broker(self.env["DIALER_BROKER_URL"])
        # The recording provider's ledger, outside the dialer's Redis db, and
        # empty for each new stack.
        self.ledger = Ledger(redis_url)
        self.ledger.clear()
        self.env[LEDGER_URL_ENV] = self.ledger.url
        self.workers: list[subprocess.Popen] = []
        self.beats: list[subprocess.Popen] = []
        self._clients: list[DialerClient] = []
        self._log_files: list = []

    def client(self, org: str = "default") -> DialerClient:
        client = DialerClient(
            database_url=self.env["DIALER_DATABASE_URL"], redis_url=self.env["DIALER_REDIS_URL"],
            broker_url=self.env["DIALER_BROKER_URL"],
            time_scale=float(self.env["DIALER_TIME_SCALE"]),
            time_origin=self.env["DIALER_TIME_ORIGIN"], org=org)
        self._clients.append(client)
        return client

    def start_worker(self, concurrency: int = 2, wait: bool = True) -> subprocess.Popen:
        name = f"w{len(self.workers)}-{uuid.uuid4().hex[:6]}"
        log = self.logdir / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-c", str(concurrency),
             "-P", "prefork", "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip",
             "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=self._open_log(log), stderr=subprocess.STDOUT,
            start_new_session=True)
        proc.log_path = log  # type: ignore[attr-defined]
        self.workers.append(proc)
        if wait:
            wait_for(lambda: " ready." in log.read_text(), timeout_s=60,
                     what=f"worker {name} ready ({log})")
        return proc

    def start_beat(self) -> subprocess.Popen:
        index = len(self.beats)
        log = self.logdir / f"beat{index}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "-s",
             str(self.logdir / f"beat{index}-schedule"), "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=self._open_log(log), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.beats.append(proc)
        return proc

    def _open_log(self, path: Path):  # -> IO
        handle = path.open("w")
        self._log_files.append(handle)
        return handle

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the whole process group: no finally blocks run anywhere."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_worker(self, proc: subprocess.Popen) -> None:
        """SIGTERM one worker and wait: a warm shutdown, its tasks finished."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        for proc in self.workers + self.beats:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.workers + self.beats:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(proc)
        for handle in self._log_files:
            handle.close()
        self.ledger.close()

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in self.logdir.glob("*.log"))


def wait_for(predicate: Callable[[], Any], *, timeout_s: float, what: str,
             interval_s: float = 0.1) -> Any:
    """Poll until ``predicate`` is truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)
