"""Lifecycle commands, lost workers, duplicate beats and replayed results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import Celery

from dialer.statuses import Participant
from tests.support.recording import max_overlap, read_ledger
from tests.support.scenario import (
    MONDAY_9AM_NY,
    assert_ledger_sane,
    campaign_spec,
    launch,
    ny_contacts,
    status_of,
)
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_sigkilled_worker_loses_no_contact_and_places_no_call_twice(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    doomed = stack.start_worker(concurrency=2)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"]] * 40, talk_s=40),
                         pacing={"channels": 6})

    wait_for(lambda: len(read_ledger(clean_state)) >= 8, timeout_s=60, what="8 calls placed")
    stack.kill(doomed)
    stack.start_worker(concurrency=2)

    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=120,
             what="campaign completed after a worker was killed")
    ledger = read_ledger(clean_state)
    assert_ledger_sane(ledger, max_attempts=3)
    assert max_overlap(ledger) <= 6
    participants = client.participants(campaign_id)
    assert len(participants) == 40
    assert all(p.status in Participant.TERMINAL for p in participants)
    # Every contact was reached: none was lost with the dead worker.
    assert {e.contact_id for e in ledger} == {p.contact_id for p in participants}


def test_two_beats_place_no_extra_calls(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=3)
    stack.start_beat()
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"]] * 25), pacing={"channels": 5})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=90,
             what="campaign completed")
    ledger = read_ledger(clean_state)
    assert len(ledger) == 25
    assert len({e.contact_id for e in ledger}) == 25
    assert max_overlap(ledger) <= 5


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


def test_replayed_and_unknown_results_are_ignored(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    worker = stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"], ["busy", "answered"]]))
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="campaign completed")
    before = client.get(campaign_id).metrics
    call_ids = [c.call_id for c in client.calls(campaign_id)]

    # Another service, with nothing of ours imported, replays results.
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    for call_id in call_ids:
        remote.send_task("dialer.call_result",
                         kwargs={"call_id": call_id, "outcome": "failed", "duration_s": 3.0})
    remote.send_task("dialer.call_result", kwargs={"call_id": "no-such-call",
                                                   "outcome": "answered"})
    log = worker.log_path
    wait_for(lambda: log.read_text().count(": ignored") >= len(call_ids) + 1, timeout_s=30,
             what="replayed results processed")
    after = client.get(campaign_id).metrics
    assert after == before
    assert after.outcomes == {"answered": 2, "busy": 1}
    assert len(read_ledger(clean_state)) == 3


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


def test_silent_call_is_closed_as_failed_and_frees_its_channel(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=120)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    contacts = (ny_contacts([["answered"]], test_provider="silent")
                + ny_contacts([["answered"]] * 3, start=10))
    campaign_id = launch(client, contacts, pacing={"channels": 1},
                         retry={"max_retries": 0},
                         call_handling={"ring_timeout_s": 5, "max_duration_s": 30})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=90,
             what="campaign completed past the silent call")
    detail = client.get(campaign_id)
    assert detail.metrics.outcomes == {"failed": 1, "answered": 3}
    assert detail.metrics.by_status == {"failed": 1, "completed": 3}
    assert detail.metrics.channels_in_use == 0


def test_provider_exception_is_a_failed_attempt_and_frees_the_channel(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    contacts = (ny_contacts([["answered"]] * 2, test_provider="raise")
                + ny_contacts([["answered"]] * 2, start=10))
    campaign_id = launch(client, contacts, pacing={"channels": 1}, retry={"max_retries": 1})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="campaign completed")
    metrics = client.get(campaign_id).metrics
    assert metrics.outcomes == {"failed": 4, "answered": 2}
    assert metrics.by_status == {"failed": 2, "completed": 2}
