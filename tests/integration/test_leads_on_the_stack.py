"""Leads on the real stack (a Celery worker and beat, the recording provider): contacts
added to a RUNNING campaign are dialed, a failed contact requeued by hand is dialed again,
and a recurring campaign dials, at its next run, a contact added between two runs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.recording import read_ledger
from tests.support.scenario import launch, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

NY = ZoneInfo("America/New_York")


def test_contacts_added_while_running_are_dialed_and_a_requeued_failure_again(
        make_stack, clean_state):
    stack = make_stack(sim_start=datetime(2026, 3, 2, 10, 0, tzinfo=NY), time_scale=60,
                       lead_s=2)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    # One contact fails for good (no retries); a long call keeps the campaign running.
    contacts = [*ny_contacts([["busy"]]), *ny_contacts([["answered"]], start=1, talk_s=900)]
    campaign_id = launch(client, contacts, pacing={"channels": 3},
                         retry={"max_retries": 0})
    failed = wait_for(lambda: [p for p in client.participants(campaign_id)
                               if p.status == "failed"], timeout_s=60,
                      what="the busy contact failed")
    assert status_of(client, campaign_id) == "running"

    added = client.add_campaign_contacts(campaign_id, ny_contacts([["answered"]] * 2,
                                                                  start=10))
    assert added.count == 2 and not added.rejected
    assert client.requeue_participants(campaign_id, [failed[0].contact_id]) == 1
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=90,
             what="campaign completed")

    ledger = read_ledger(clean_state)
    per_phone = Counter(e.to for e in ledger)
    assert per_phone == {"+12125550000": 2, "+12125550001": 1, "+12125550010": 1,
                         "+12125550011": 1}
    requeued = sorted((e.start, e.attempt) for e in ledger if e.to == "+12125550000")
    assert [attempt for _, attempt in requeued] == [1, 1]  # attempts restarted
    assert len({e.call_id for e in ledger}) == len(ledger)
    actions = [e.action for e in client.events(campaign_id)]
    assert actions.count("contacts_added") == 1 and actions.count("requeued") == 1


def test_a_recurring_campaign_dials_at_its_next_run_a_contact_added_between_runs(
        make_stack, clean_state):
    stack = make_stack(sim_start=datetime(2026, 3, 2, 9, 0, tzinfo=NY), time_scale=3600,
                       lead_s=2)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["answered"]] * 2), pacing={"channels": 2},
                         schedule={"recurrence": "daily"})
    wait_for(lambda: status_of(client, campaign_id) == "scheduled", timeout_s=60,
             what="first run completed, waiting for the next")
    audience_id = client.get(campaign_id).campaign.audience_id
    assert audience_id is not None
    assert client.add_contacts(audience_id, ny_contacts([["answered"]], start=5)).count == 1
    wait_for(lambda: len(client.get(campaign_id).campaign.executions) >= 2
             and client.get(campaign_id).campaign.executions[1].status == "completed",
             timeout_s=90, what="second run completed")
    # Run by run, not by date: at 3600x a slow start-up moves the first run's calls to the
    # next morning.
    second_run = client.get(campaign_id).campaign.executions[1].started_at
    dialed = Counter(c.phone for c in client.calls(campaign_id)
                     if c.placed_at and c.placed_at >= second_run)
    assert dialed == {"+12125550000": 1, "+12125550001": 1, "+12125550005": 1}
