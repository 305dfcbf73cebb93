"""Lifecycle commands and scheduled starts.

Lost workers, duplicate beats, replayed results and provider faults are in
``tests/chaos`` (each checked there with the shared invariants).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.recording import read_ledger
from tests.support.scenario import (
    MONDAY_9AM_NY,
    campaign_spec,
    launch,
    ny_contacts,
    status_of,
)
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_pause_holds_new_calls_resume_continues_stop_cancels(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"]] * 30, talk_s=90),
                         pacing={"channels": 2})
    wait_for(lambda: len(read_ledger(clean_state)) >= 2, timeout_s=30, what="first calls")

    client.pause(campaign_id)
    # Calls in progress finish and count; then nothing new is placed.
    wait_for(lambda: client.get(campaign_id).metrics.in_progress == 0, timeout_s=30,
             what="in-flight calls finished")
    placed_at_pause = len(read_ledger(clean_state))
    detail = client.get(campaign_id)
    assert detail.campaign.status == "paused"
    assert detail.metrics.outcomes.get("answered", 0) == placed_at_pause
    beat_log = stack.logdir / "beat0.log"
    ticks = beat_log.read_text().count("dialer.tick")
    wait_for(lambda: beat_log.read_text().count("dialer.tick") >= ticks + 6, timeout_s=30,
             what="six more ticks while paused")
    assert len(read_ledger(clean_state)) == placed_at_pause

    client.resume(campaign_id)
    wait_for(lambda: len(read_ledger(clean_state)) >= placed_at_pause + 2, timeout_s=30,
             what="calls after resume")
    client.stop(campaign_id)
    wait_for(lambda: client.get(campaign_id).metrics.in_progress == 0, timeout_s=30,
             what="in-flight calls finished after stop")
    detail = client.get(campaign_id)
    assert detail.campaign.status == "stopped"
    by_status = detail.metrics.by_status
    assert by_status.get("canceled", 0) > 0
    assert set(by_status) <= {"completed", "canceled"}
    assert by_status.get("completed", 0) == len(read_ledger(clean_state))
    actions = [e.action for e in client.events(campaign_id)]
    for action in ("started", "paused", "resumed", "stopped"):
        assert action in actions
    executions = detail.campaign.executions
    assert [e.status for e in executions] == ["paused", "stopped"]


def test_scheduled_campaign_starts_itself_at_scheduled_at(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=600)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]] * 3))
    scheduled_at = client.now() + timedelta(minutes=30)
    campaign = client.create_campaign(campaign_spec(audience.id,
                                                    scheduled_at=scheduled_at.isoformat()))
    assert campaign.status == "scheduled"
    wait_for(lambda: status_of(client, campaign.id) == "completed", timeout_s=60,
             what="scheduled campaign ran to completion")
    ledger = read_ledger(clean_state)
    assert len(ledger) == 3
    from datetime import datetime

    assert min(datetime.fromisoformat(e.sim_start) for e in ledger) >= scheduled_at
    actions = [e.action for e in client.events(campaign.id)]
    assert actions[:3] == ["created", "scheduled", "started"]
