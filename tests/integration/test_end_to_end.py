"""The dialer end to end on the real PostgreSQL, Redis and Celery workers."""

from __future__ import annotations

import pytest

from dialer.statuses import PARTICIPANT_TERMINAL
from tests.support.recording import max_overlap, read_ledger
from tests.support.scenario import (
    MONDAY_9AM_NY,
    assert_ledger_sane,
    launch,
    ny_contacts,
    status_of,
)
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_mixed_outcomes_run_to_completed_with_consistent_metrics(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    scripts = ([["answered"]] * 6 + [["no_answer", "answered"]] * 6
               + [["busy", "busy", "busy"]] * 4 + [["voicemail"]] * 4
               + [["failed", "answered"]] * 4)
    campaign_id = launch(client, ny_contacts(scripts))

    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=90,
             what="campaign completed")

    detail = client.get(campaign_id)
    metrics = detail.metrics
    assert metrics.total_participants == 24
    assert metrics.by_status == {"completed": 20, "failed": 4}
    assert metrics.outcomes == {"answered": 16, "no_answer": 6, "busy": 12, "voicemail": 4,
                                "failed": 4}
    assert metrics.calls_placed == 42
    assert metrics.contacts_called == 24
    assert metrics.contacts_connected == 16
    assert metrics.in_progress == 0 and metrics.channels_in_use == 0
    ledger = read_ledger(clean_state)
    assert len(ledger) == 42
    assert_ledger_sane(ledger, max_attempts=3)
    participants = client.participants(campaign_id)
    assert sum(p.attempts for p in participants) == 42
    assert all(p.status in PARTICIPANT_TERMINAL for p in participants)
    calls = client.calls(campaign_id)
    assert len(calls) == 42 and all(c.outcome and c.ended_at for c in calls)
    actions = [e.action for e in client.events(campaign_id)]
    assert actions[:2] == ["created", "started"] and actions[-1] == "completed"
    [execution] = detail.campaign.executions
    assert execution.status == "completed"
    assert (execution.total_members, execution.processed_members,
            execution.failed_members) == (24, 24, 4)


def test_channels_never_exceeded_with_three_workers_of_four_processes(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    for _ in range(3):
        stack.start_worker(concurrency=4)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"]] * 30, ring_s=5, talk_s=55),
                         pacing={"channels": 3})

    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=120,
             what="campaign completed")
    ledger = read_ledger(clean_state)
    assert len(ledger) == 30
    assert_ledger_sane(ledger, max_attempts=1)
    assert max_overlap(ledger) == 3
    assert len({e.pid for e in ledger}) > 1, "calls should have been placed by several processes"


def test_organisation_cap_holds_across_campaigns(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60, org_channel_cap=4)
    stack.start_worker(concurrency=4)
    stack.start_beat()
    client = stack.client()
    first = launch(client, ny_contacts([["answered"]] * 12, talk_s=55), pacing={"channels": 3})
    second = launch(client, ny_contacts([["answered"]] * 12, talk_s=55, start=100),
                    pacing={"channels": 3})
    wait_for(lambda: {status_of(client, first), status_of(client, second)} == {"completed"},
             timeout_s=120, what="both campaigns completed")
    ledger = read_ledger(clean_state)
    assert len(ledger) == 24
    assert max_overlap(ledger) <= 4
    assert max_overlap(ledger, key=lambda e: e.campaign_id == first) <= 3
    assert max_overlap(ledger, key=lambda e: e.campaign_id == second) <= 3


def test_zero_channels_dial_nothing_until_allocated(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"]] * 4), pacing={"channels": 0})
    # Let several ticks pass: a tick that ran and chose nothing is visible as
    # the beat's log growing while the ledger stays empty.
    log = stack.logdir / "beat0.log"
    wait_for(lambda: log.read_text().count("dialer.tick") >= 8, timeout_s=30,
             what="eight ticks sent")
    assert read_ledger(clean_state) == []
    assert client.get(campaign_id).metrics.calls_placed == 0

    client.allocate_channels(campaign_id, 2)
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="campaign completed after allocation")
    assert len(read_ledger(clean_state)) == 4
    assert "channels_allocated" in [e.action for e in client.events(campaign_id)]
