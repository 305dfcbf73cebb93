"""``dialer api serve`` as a person starts it: the documents without a key, and a
SIGTERM that ends the process promptly even with an event stream open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.support.api_server import free_port
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts
from tests.support.sse import read_events
from tests.support.stack import ROOT, wait_for

pytestmark = pytest.mark.integration


def test_dialer_api_serve_serves_the_documents_and_stops_on_sigterm(make_stack, tmp_path: Path):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dialer = str(Path(sys.executable).parent / "dialer")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([dialer, "api", "serve", "--port", str(port)], cwd=ROOT,
                            env=stack.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _up(base), timeout_s=30, what=f"dialer api serve on {base}")
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Dialer API"
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        # A stream open while the server is asked to stop.
        client = stack.client()
        from dialer.service import orgs

        orgs.create_org(client.runtime, "acme")
        _, key = orgs.create_api_key(client.runtime, "acme")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as c:
            audience = c.post("/v1/audiences", json={
                "name": "people", "contacts": ny_contacts([["answered"]])}).json()
            campaign = c.post("/v1/campaigns", json=campaign_spec(audience["id"])).json()
            # A query string holding a phone number: the access log leaves it out.
            assert c.get("/atoms/v1/dnc", params={"search": "+12125550177"}).status_code == 200
        received: list[str] = []
        opened = threading.Event()

        def listen() -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                              timeout=60) as c, \
                    c.stream("GET", f"/v1/campaigns/{campaign['id']}/stream") as response:
                try:
                    for event in read_events(response):
                        received.append(event.event)
                        opened.set()
                except httpx.HTTPError:
                    pass

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(20), "the stream sent nothing"
        os.kill(proc.pid, signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (so the
        # exit status says SIGTERM): what matters is the orderly shutdown, in time.
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
        log.flush()
        assert "Finished server process" in (tmp_path / "serve.log").read_text()
        listener.join(timeout=20)
        assert not listener.is_alive() and received[0] == "lifecycle"
        # The stream was ended, not cut: its last event says why.
        assert received[-1] == "end"
        served = (tmp_path / "serve.log").read_text()
        assert "ASGI callable returned without completing response" not in served
        # The access log was on (INFO) and shows the request, without the number.
        assert '"GET /atoms/v1/dnc?… HTTP/1.1" 200' in served
        assert "5550177" not in served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("trusted", [False, True])
def test_behind_a_named_proxy_the_console_cookie_is_secure(make_stack, tmp_path: Path,
                                                           trusted: bool):
    """``--forwarded-allow-ips`` trusts the proxy's X-Forwarded-Proto (the browser spoke
    HTTPS to it), so the console's session cookie is Secure; without it, nobody's
    forwarded headers are believed."""
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    from dialer.service import orgs

    rt = stack.client().runtime
    orgs.create_org(rt, "acme")
    _, key = orgs.create_api_key(rt, "acme")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dialer = str(Path(sys.executable).parent / "dialer")
    extra = ["--forwarded-allow-ips", "127.0.0.1"] if trusted else []
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([dialer, "api", "serve", "--port", str(port), *extra], cwd=ROOT,
                            env=stack.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _up(base), timeout_s=30, what=f"dialer api serve on {base}")
        signed_in = httpx.post(f"{base}/console/sign-in", data={"api_key": key},
                               headers={"X-Forwarded-Proto": "https"})
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"].lower()
        assert cookie.startswith("dialer_console=dcs_") and "httponly" in cookie
        assert ("; secure" in cookie) is trusted
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
