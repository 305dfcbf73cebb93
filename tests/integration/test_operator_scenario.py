"""An operator's afternoon with one campaign, on the real stack (issue 14's scenario):
import 50 leads, start, add 20 more while it runs, requeue 3 that failed, close 2 by
hand, pause, change the window, resume, let it finish, export. The recording provider's
own ledger of every call it was asked to place must agree with every count the dialer
shows: metrics, participants, the call log, both exports and the funnel."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from tests.support.recording import read_ledger
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

NY = ZoneInfo("America/New_York")
NEVER_ANSWER = 10  # the first ten leads: no answer on every attempt
# No retries: a lead that does not answer has failed after its one call, early in the run
# (a retry falls due after every lead that waited longer, so near the end).
RETRIES = 0


def test_an_operator_steers_a_running_campaign_and_the_ledger_agrees(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60, lead_s=2)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()

    # Import 50 leads and start.
    leads = [*ny_contacts([["no_answer"]] * NEVER_ANSWER),
             *ny_contacts([["answered"]] * 40, start=NEVER_ANSWER, talk_s=60)]
    audience = client.create_audience("afternoon", leads)
    assert audience.count == 50 and not audience.rejected
    campaign = client.create_campaign(campaign_spec(
        audience.id, pacing={"channels": 2},
        retry={"max_retries": RETRIES, "retry_delay_minutes": 1},
        schedule={"call_window": {"start": "09:00", "end": "17:00"}}))
    campaign_id = campaign.id
    client.start(campaign_id)
    wait_for(lambda: len(client.calls(campaign_id)) >= 3, timeout_s=30,
             what="the first calls")

    # Add 20 more while it runs; close the last two of them by hand before their turn.
    added = client.add_campaign_contacts(
        campaign_id, ny_contacts([["answered"]] * 20, start=100, talk_s=60))
    assert added.count == 20 and not added.rejected
    assert status_of(client, campaign_id) == "running"
    by_phone = {p.phone: p.contact_id for p in client.participants(campaign_id)}
    closed = [by_phone["+12125550118"], by_phone["+12125550119"]]
    assert client.close_participants(campaign_id, closed) == 2

    # Requeue three leads that failed (three unanswered calls each).
    def three_failed() -> list[int] | None:
        ids = [p.contact_id for p in client.participants(campaign_id) if p.status == "failed"]
        return ids[:3] if len(ids) >= 3 else None

    failed = wait_for(three_failed, timeout_s=60, what="three failed leads")
    assert status_of(client, campaign_id) == "running"
    assert client.requeue_participants(campaign_id, failed) == 3

    # Pause, widen the window, resume.
    client.pause(campaign_id)
    paused_at = time.time()
    client.update_campaign(campaign_id, {"schedule": {"call_window": {"end": "20:00"}}})
    time.sleep(3)  # paused for a while: what the ledger must show is a gap
    resumed_at = time.time()
    client.resume(campaign_id)

    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=180,
             what="campaign completed")

    ledger = read_ledger(clean_state)
    calls_per_contact = Counter(e.contact_id for e in ledger)
    never_answer = {by_phone[f"+1212555{i:04d}"] for i in range(NEVER_ANSWER)}
    answering = set(by_phone.values()) - never_answer - set(closed)

    # The provider's ledger, contact by contact.
    assert len({e.call_id for e in ledger}) == len(ledger), "a call placed twice"
    assert all(calls_per_contact[c] == 1 for c in answering)
    assert all(e.outcome == "answered" for e in ledger if e.contact_id in answering)
    assert all(calls_per_contact[c] == 2 * (RETRIES + 1) for c in failed)
    assert all(calls_per_contact[c] == RETRIES + 1 for c in never_answer - set(failed))
    assert not any(calls_per_contact[c] for c in closed)
    expected_calls = 58 + 3 * 2 * (RETRIES + 1) + 7 * (RETRIES + 1)  # 71
    assert len(ledger) == expected_calls
    # Nothing placed while paused (a call claimed just before the pause may still start).
    assert not [e for e in ledger if paused_at + 1.5 < e.start < resumed_at]

    # The dialer's own counts agree with the ledger.
    metrics = client.get(campaign_id).metrics
    assert metrics.total_participants == 70
    assert metrics.calls_placed == len(ledger)
    assert metrics.contacts_called == 68 and metrics.contacts_connected == 58
    assert metrics.by_status == {"completed": 60, "failed": 10}
    participants = {p.contact_id: p for p in client.participants(campaign_id)}
    assert {c for c, p in participants.items() if p.skip_reason == "closed"} == set(closed)
    calls = client.calls(campaign_id)
    assert Counter(c.contact_id for c in calls) == calls_per_contact
    assert {c.call_id for c in calls} == {e.call_id for e in ledger}
    local_times = [c.placed_at.astimezone(NY).time() for c in calls if c.placed_at]
    assert all(t.hour >= 9 and t.hour < 20 for t in local_times)

    # The exports say the same, row for row.
    call_log = list(csv.DictReader(io.StringIO("".join(client.export_calls(campaign_id)))))
    assert Counter(int(row["contact_id"]) for row in call_log) == calls_per_contact
    assert {row["call_id"] for row in call_log} == {e.call_id for e in ledger}
    per_contact_csv = list(csv.DictReader(io.StringIO(
        "".join(client.export_contacts(campaign_id, format="csv")))))
    assert len(per_contact_csv) == 70
    assert {int(r["contact_id"]): int(r["attempts"]) for r in per_contact_csv} == {
        c: calls_per_contact[c] for c in participants}
    assert Counter(r["status"] for r in per_contact_csv) == {"completed": 60, "failed": 10}
    per_contact_json = json.loads("".join(client.export_contacts(campaign_id, format="json")))
    assert per_contact_json["total"] == 70
    assert sum(c["attempts"] for c in per_contact_json["contacts"]) == len(ledger)

    # The funnel counts the same people.
    funnel = client.funnel(campaign_id)
    assert (funnel.total, funnel.dialed, funnel.connected) == (70, 68, 58)

    # And the log tells the afternoon in order.
    actions = [e.action for e in client.events(campaign_id)]
    for earlier, later in [("started", "contacts_added"), ("contacts_added", "closed"),
                           ("closed", "requeued"), ("requeued", "paused"),
                           ("paused", "updated"), ("updated", "resumed"),
                           ("resumed", "completed")]:
        assert actions.index(earlier) < actions.index(later), actions
