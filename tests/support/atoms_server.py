"""A real ``uvicorn dialer.api:app`` on a free port of 127.0.0.1, and organisations with
API keys to call it with (the Atoms tests; the API's own tests may share it)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from dialer.client import DialerClient
from dialer.service import orgs
from tests.support.stack import ROOT, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def api_server(env: dict[str, str]) -> Iterator[str]:
    """Serve the app with ``env`` (the DIALER_* settings); yields its base URL."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="dialer-api-", suffix=".log")[1])
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "dialer.api:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the API server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(f"{base}/atoms/v1/campaign", timeout=2).status_code == 401
        return False

    try:
        wait_for(answers, timeout_s=60, what=f"the API server on {base} ({log})")
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass(frozen=True)
class Tenant:
    name: str
    key: str
    client: DialerClient  # acts for the organisation directly (setting up, checking)


def make_tenant(owner: DialerClient, name: str) -> Tenant:
    """A new organisation with an API key, and a client acting for it on ``owner``'s
    settings."""
    orgs.create_org(owner.runtime, name)
    _, key = orgs.create_api_key(owner.runtime, name, label="atoms tests")
    client = DialerClient(org=name, database_url=owner.settings.database_url,
                          redis_url=owner.settings.redis_url,
                          broker_url=owner.settings.broker_url,
                          time_scale=owner.settings.time_scale,
                          time_origin=owner.settings.time_origin)
    return Tenant(name, key, client)
