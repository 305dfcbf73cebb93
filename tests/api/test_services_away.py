"""PostgreSQL away: the API answers 503 with Retry-After (the same request works once it
is back), never a 500 or a hang, and says so without leaking the driver's message."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.support.api_server import free_port
from tests.support.stack import ROOT, wait_for

pytestmark = pytest.mark.integration


def test_postgresql_away_is_503_with_retry_after(tmp_path, redis_url):
    port = free_port()
    # Nothing listens on port 1: every connection is refused at once.
    env = {"DIALER_DATABASE_URL": "postgresql+psycopg://secret-user@127.0.0.1:1/dialer",
           "DIALER_REDIS_URL": redis_url, "DIALER_DB_CONNECT_TIMEOUT_S": "2",
           "PATH": "/usr/bin:/bin"}
    log = (tmp_path / "api.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "dialer.api:app", "--port",
                             str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), timeout_s=30, what="uvicorn listening")
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 503
        key = "dk_00000000_" + "a" * 43
        for method, path in (("GET", "/v1/campaigns"), ("GET", "/atoms/v1/campaign")):
            answer = httpx.request(method, base + path, timeout=10,
                                   headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["Retry-After"] == "2"
            assert "retry" in answer.text and "secret-user" not in answer.text
        log.flush()
        assert "secret-user" not in (tmp_path / "api.log").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _answers(base: str) -> bool:
    try:
        httpx.get(f"{base}/openapi.json", timeout=2)
        return True
    except httpx.TransportError:
        return False
