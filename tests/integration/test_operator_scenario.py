"""An operator's afternoon with one campaign, on the real stack (issue 14's scenario):
import 50 leads, start, add 20 more while it runs, requeue 3 that failed, close 2 by
hand, pause, change the window, resume, let it finish, export. The recording provider's
own ledger of every call it was asked to place must agree with every count the dialer
shows: metrics, participants, the call log, both exports and the funnel.

The afternoon starts at 16:30 in New York with a window closing at 17:00, and the work
takes longer than that however fast the machine (58 answered calls of 70 s on two
channels: 34 minutes at least, and a pause of 3, against the window's half hour), so the
window change is what lets the campaign finish today: without it, the contacts left at
17:00 would wait for Tuesday's opening. Half an hour at 60x gives the worker and beat
half a real minute to come up and place the first calls before 17:00, on a loaded
machine too."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from datetime import UTC, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest

from tests.support.recording import read_ledger
from tests.support.scenario import campaign_spec, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

NY = ZoneInfo("America/New_York")
# Monday 2 March 2026, 16:30 in New York: half an hour before the window closes.
MONDAY_430PM_NY = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)
WINDOW_END, WIDER_END = clock_time(17), clock_time(20)
NEVER_ANSWER = 10  # the first ten leads: no answer on every attempt
# A ring of 5 s and this much talk: 58 answered calls on two channels need more than the
# half hour before 17:00 even if dialing began the instant the clock did.
TALK_S = 65
# No retries: a lead that does not answer has failed after its one call, early in the run
# (a retry falls due after every lead that waited longer, so near the end).
RETRIES = 0


def test_an_operator_steers_a_running_campaign_and_the_ledger_agrees(make_stack, clean_state):
    # 60x: a simulated minute a real second.
    stack = make_stack(sim_start=MONDAY_430PM_NY, time_scale=60, lead_s=2)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()

    # Import 50 leads and start.
    leads = [*ny_contacts([["no_answer"]] * NEVER_ANSWER),
             *ny_contacts([["answered"]] * 40, start=NEVER_ANSWER, talk_s=TALK_S)]
    audience = client.create_audience("afternoon", leads)
    assert audience.count == 50 and not audience.rejected
    campaign = client.create_campaign(campaign_spec(
        audience.id, pacing={"channels": 2},
        retry={"max_retries": RETRIES, "retry_delay_minutes": 1},
        schedule={"call_window": {"start": "09:00", "end": f"{WINDOW_END:%H:%M}"}}))
    campaign_id = campaign.id
    client.start(campaign_id)
    wait_for(lambda: len(client.calls(campaign_id)) >= 3, timeout_s=30,
             what=f"the first calls, before {WINDOW_END:%H:%M}")

    # Add 20 more while it runs; close the last two of them by hand before their turn.
    added = client.add_campaign_contacts(
        campaign_id, ny_contacts([["answered"]] * 20, start=100, talk_s=TALK_S))
    assert added.count == 20 and not added.rejected
    assert status_of(client, campaign_id) == "running"
    by_phone = {p.phone: p.contact_id for p in client.participants(campaign_id)}
    closed = [by_phone["+12125550118"], by_phone["+12125550119"]]
    assert client.close_participants(campaign_id, closed) == 2

    # Requeue three leads that failed (each unanswered on its one call: RETRIES = 0).
    def three_failed() -> list[int] | None:
        ids = [p.contact_id for p in client.participants(campaign_id) if p.status == "failed"]
        return ids[:3] if len(ids) >= 3 else None

    failed = wait_for(three_failed, timeout_s=60, what="three failed leads")
    assert status_of(client, campaign_id) == "running"
    assert client.requeue_participants(campaign_id, failed) == 3

    # Pause, widen the window (the work left would not fit before 17:00), resume.
    client.pause(campaign_id)
    paused_at = time.time()
    client.update_campaign(campaign_id, {"schedule": {"call_window": {
        "end": f"{WIDER_END:%H:%M}"}}})
    time.sleep(3)  # paused for a while: what the ledger must show is a gap
    resumed_at = time.time()
    client.resume(campaign_id)

    def placed_after_the_old_window() -> bool:
        return any(c.placed_at and c.placed_at.astimezone(NY).time() >= WINDOW_END
                   for c in client.calls(campaign_id))

    # At 17:00 work is left: the widened window goes on dialing it today.
    wait_for(placed_after_the_old_window, timeout_s=60,
             what=f"a call placed after {WINDOW_END:%H:%M}, in the widened window")
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
    # Calls went on past the old window's end, within the new one: the edit was used.
    local_times = [c.placed_at.astimezone(NY).time() for c in calls if c.placed_at]
    assert all(clock_time(9) <= t < WIDER_END for t in local_times)
    assert [t for t in local_times if t >= WINDOW_END]

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
