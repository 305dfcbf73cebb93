"""Monitoring on the real stack: the exporter over HTTP, worker events and JSON logs."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from dialer.statuses import PARTICIPANT_DUE
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, launch, ny_contacts, status_of
from tests.support.stack import ROOT, Stack, wait_for

pytestmark = pytest.mark.integration

UNMASKED = re.compile(r"\+\d{8,15}(?![\d*])")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_exporter(stack: Stack, port: int) -> subprocess.Popen:
    with (stack.logdir / "exporter.log").open("w") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "dialer"), "metrics", "serve", "--port", str(port),
             "--host", "127.0.0.1"], cwd=ROOT, env=stack.env, stdout=log, stderr=subprocess.STDOUT)


def scrape(port: int) -> Samples | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _released(samples: Samples | None) -> Samples | None:
    """The scrape once it shows no channel lease held (None until then)."""
    if samples is None or value(samples, "dialer_org_leases_held", org="default") != 0:
        return None
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def series(samples: Samples, name: str, **labels: str) -> dict[frozenset, float]:
    wanted = set(labels.items())
    return {key: v for (n, key), v in samples.items() if n == name and wanted <= key}


class EventCapture:
    """Every worker event on the real broker, collected by a daemon thread."""

    def __init__(self, broker_url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._app = Celery(broker=broker_url, set_as_current=False)
        self._receiver: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self._app.connection() as connection:
            self._receiver = self._app.events.Receiver(
                connection, handlers={"*": self.events.append})
            self._receiver.capture(limit=None, timeout=None, wakeup=False)

    def named(self, event_type: str, task: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type and e.get("name") == task]

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(timeout=5)


def test_exporter_events_and_logs_on_the_real_stack(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=300,
                       extra_env={"DIALER_LOG_JSON": "1"})
    worker = stack.start_worker(concurrency=2)
    stack.start_beat()
    port = free_port()
    exporter = start_exporter(stack, port)
    events = EventCapture(stack.env["DIALER_BROKER_URL"])
    client = stack.client()
    try:
        # Beat's ticks produce events continuously: the first one says we are subscribed.
        wait_for(lambda: events.events, timeout_s=30, what="worker events flowing")

        # A: another service enqueues it with inline contacts; it runs to completion.
        remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
        spec = campaign_spec(None, external_id="metrics-a", pacing={"channels": 3})
        spec.pop("audience_id")
        contacts = ny_contacts([["answered"], ["no_answer", "answered"], ["busy", "voicemail"],
                                ["voicemail"], ["failed", "answered"]])
        remote.send_task("dialer.enqueue_campaign",
                         kwargs={"spec": spec, "contacts": contacts, "start": True})
        # A foreign sender's typo: Celery logs the whole message body, numbers included.
        remote.send_task("dialer.no_such_task", kwargs={"phone": "+12125550199"})
        # B: every call fails, so its circuit breaker trips.
        b_id = launch(client, ny_contacts([["failed"]] * 10, start=100), pacing={"channels": 2},
                      retry={"max_retries": 0},
                      safety={"circuit_breaker": {"enabled": True, "failure_rate": 0.5,
                                                  "min_calls": 4, "window": 6}})

        a_id = wait_for(lambda: next((c.id for c in client.list()
                                      if c.external_id == "metrics-a"), None),
                        timeout_s=30, what="campaign A enqueued")
        wait_for(lambda: status_of(client, a_id) == "completed", timeout_s=60,
                 what="campaign A completed")
        wait_for(lambda: client.get(b_id).campaign.pause_reason == "circuit_breaker",
                 timeout_s=60, what="campaign B's breaker tripped")
        wait_for(lambda: client.get(b_id).metrics.in_progress == 0, timeout_s=30,
                 what="B's calls in flight finished")
        # Routed by queue name, as docs/remote-control.md shows, from an app with no routes.
        remote.send_task("dialer.campaign_command", queue="dialer.control", kwargs={
            "campaign_id": b_id, "command": "allocate_channels", "channels": 5})
        wait_for(lambda: client.get(b_id).campaign.channels == 5, timeout_s=30,
                 what="B's channels allocated remotely")

        # A result commits in PostgreSQL before its worker releases the channel's lease in
        # Redis: on a busy machine the first scrape can fall between the two. A lease that
        # leaked would never be released, and this wait would time out.
        samples = wait_for(lambda: _released(scrape(port)), timeout_s=30,
                           what="exporter answering with every lease released")
        now = client.now()
    finally:
        events.stop()
        exporter.send_signal(signal.SIGTERM)
        exporter_code = exporter.wait(timeout=10)

    assert exporter_code == 0, "SIGTERM stops the exporter cleanly"
    assert value(samples, "dialer_scrape_success") == 1
    for campaign_id in (a_id, b_id):
        detail = client.get(campaign_id)
        calls = series(samples, "dialer_calls_total", campaign=campaign_id)
        counted = {dict(key)["outcome"]: v for key, v in calls.items()}
        assert counted == detail.metrics.outcomes
        assert value(samples, "dialer_channels_allocated",
                     campaign=campaign_id) == detail.campaign.channels
        assert value(samples, "dialer_channels_in_use", campaign=campaign_id) == 0
        states = {dict(key)["status"]: v for key, v in
                  series(samples, "dialer_campaign_status", campaign=campaign_id).items()}
        assert states[detail.campaign.status] == 1 and sum(states.values()) == 1
    assert not series(samples, "dialer_calls_total", outcome="in_progress")
    assert value(samples, "dialer_channels_allocated", campaign=a_id) == 3
    assert value(samples, "dialer_channels_allocated", campaign=b_id) == 5
    assert value(samples, "dialer_breaker_open", campaign=b_id) == 1
    assert value(samples, "dialer_breaker_open", campaign=a_id) == 0
    due = [p for p in client.participants(b_id)
           if p.status in PARTICIPANT_DUE and p.next_attempt_at <= now]
    assert due, "B paused with contacts still waiting"
    assert value(samples, "dialer_due_backlog", campaign=b_id) == len(due)
    assert value(samples, "dialer_due_backlog", campaign=a_id) == 0
    assert value(samples, "dialer_org_channel_cap", org="default") == 100
    assert value(samples, "dialer_org_channels_in_use", org="default") == 0
    assert value(samples, "dialer_org_leases_held", org="default") == 0
    assert value(samples, "dialer_leases_ready") == 1
    ticks = value(samples, "dialer_tick_duration_seconds_count")
    assert ticks > 0
    assert value(samples, "dialer_tick_duration_seconds_bucket", le="+Inf") == ticks
    assert value(samples, "dialer_tick_duration_seconds_sum") > 0

    # What Flower shows: the worker's own events carry a count and masked numbers.
    [received] = events.named("task-received", "dialer.enqueue_campaign")
    assert "<5 contacts>" in received["kwargs"] and "metrics-a" in received["kwargs"]
    shown = json.dumps([e for e in events.events if e["type"].startswith("task-")])
    assert not UNMASKED.search(shown)

    # JSON lines from the worker, with task ids inside tasks and no number in clear.
    text = worker.log_path.read_text()
    assert not UNMASKED.search(text), UNMASKED.search(text)
    assert "+1212555****" in text  # the unregistered message's body, masked
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert len(records) > 10
    assert {"ts", "level", "logger", "message"} <= set(records[0])
    assert any(r.get("task_name") == "dialer.call_result" and r.get("task_id")
               for r in records)
