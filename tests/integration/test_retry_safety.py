"""Retries, cooldowns, the circuit breaker and the safety controls on the real stack."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.errors import InvalidTransition
from tests.support.recording import read_ledger
from tests.support.scenario import campaign_spec, launch, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

NY = ZoneInfo("America/New_York")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=NY)


def calls_by_contact(client, campaign_id):
    out: dict[int, list] = {}
    for call in sorted(client.calls(campaign_id), key=lambda c: c.attempt):
        out.setdefault(call.contact_id, []).append(call)
    return out


def gaps_after(calls) -> list[timedelta]:
    return [b.placed_at - a.ended_at for a, b in itertools.pairwise(calls)]


def test_retry_gaps_respect_the_delay(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=300)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    campaign_id = launch(client, ny_contacts([["no_answer", "busy", "answered"]] * 3),
                         retry={"max_retries": 2, "retry_delay_minutes": 5})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="campaign completed")
    for calls in calls_by_contact(client, campaign_id).values():
        assert [c.outcome for c in calls] == ["no_answer", "busy", "answered"]
        assert all(gap >= timedelta(minutes=5) for gap in gaps_after(calls))


def test_cooldown_applies_to_every_outcome_not_picked_cooldown_to_no_answer_only(
        make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=1800)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    busy = ny_contacts([["busy", "answered"]] * 2)
    no_answer = ny_contacts([["no_answer", "answered"]] * 2, start=10)
    campaign_id = launch(client, busy + no_answer,
                         retry={"max_retries": 1, "retry_delay_minutes": 1,
                                "not_picked_cooldown_hours": 2})
    cooled = launch(client, ny_contacts([["busy", "answered"]] * 2, start=20),
                    retry={"max_retries": 1, "retry_delay_minutes": 1, "cooldown_hours": 1})
    wait_for(lambda: {status_of(client, campaign_id), status_of(client, cooled)} ==
             {"completed"}, timeout_s=60, what="both campaigns completed")
    for calls in calls_by_contact(client, campaign_id).values():
        [gap] = gaps_after(calls)
        if calls[0].outcome == "no_answer":
            assert gap >= timedelta(hours=2)
        else:
            assert timedelta(minutes=1) <= gap < timedelta(minutes=30)
    for calls in calls_by_contact(client, cooled).values():
        assert gaps_after(calls)[0] >= timedelta(hours=1)
    reasons = {s.reason for s in client.skips(campaign_id)} | {
        s.reason for s in client.skips(cooled)}
    assert "cooldown" in reasons


def test_voicemail_completes_unless_retry_on_voicemail(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=300)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    script = [["voicemail", "answered"]] * 2
    plain = launch(client, ny_contacts(script))
    retrying = launch(client, ny_contacts(script, start=10),
                      retry={"retry_on_voicemail": True, "max_retries": 1})
    wait_for(lambda: {status_of(client, plain), status_of(client, retrying)} == {"completed"},
             timeout_s=60, what="both completed")
    assert client.get(plain).metrics.outcomes == {"voicemail": 2}
    assert client.get(retrying).metrics.outcomes == {"voicemail": 2, "answered": 2}


def test_goal_based_retries_answered_calls_without_the_goal(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=300)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    missed = ny_contacts([["answered", "answered"]], sim_goal_achieved=False)
    reached = ny_contacts([["answered"]], start=10, sim_goal_achieved=True)
    campaign_id = launch(client, missed + reached,
                         retry={"goal_based": True, "max_retries": 1})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="campaign completed")
    by_phone = {p.phone: p for p in client.participants(campaign_id)}
    assert by_phone["+12125550000"].attempts == 2
    assert by_phone["+12125550000"].status == "failed"  # goal never achieved
    assert by_phone["+12125550010"].attempts == 1
    assert by_phone["+12125550010"].status == "completed"


def test_breaker_trips_pauses_resets_and_resumes(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=300)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    contacts = ny_contacts([["failed", "answered"]] * 12)
    campaign_id = launch(client, contacts, pacing={"channels": 2},
                         retry={"max_retries": 1, "retry_delay_minutes": 1},
                         safety={"circuit_breaker": {"enabled": True, "failure_rate": 0.5,
                                                     "min_calls": 4, "window": 6}})
    wait_for(lambda: client.get(campaign_id).campaign.pause_reason == "circuit_breaker",
             timeout_s=60, what="breaker tripped")
    detail = client.get(campaign_id).campaign
    assert detail.status == "paused" and detail.breaker_open
    [tripped] = [e for e in client.events(campaign_id) if e.action == "breaker_tripped"]
    assert "failed of the last" in tripped.detail
    with pytest.raises(InvalidTransition):
        client.resume(campaign_id)
    wait_for(lambda: client.get(campaign_id).metrics.in_progress == 0, timeout_s=30,
             what="calls in flight finished")
    placed_while_tripped = len(read_ledger(clean_state))
    client.reset_breaker(campaign_id)
    assert client.get(campaign_id).campaign.status == "paused"
    assert len(read_ledger(clean_state)) == placed_while_tripped
    client.resume(campaign_id)
    wait_for(lambda: client.get(campaign_id).campaign.status in ("completed", "paused"),
             timeout_s=60, what="campaign ran on after resume")
    actions = [e.action for e in client.events(campaign_id)]
    assert actions.index("breaker_tripped") < actions.index("breaker_reset") \
        < actions.index("resumed")
    assert len(read_ledger(clean_state)) > placed_while_tripped


def test_number_added_to_dnc_mid_run_is_never_dialed(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=120)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    contacts = ny_contacts([["answered"]] * 10, talk_s=55)
    campaign_id = launch(client, contacts, pacing={"channels": 1})
    wait_for(lambda: len(read_ledger(clean_state)) >= 2, timeout_s=30, what="two calls")
    late = [c["phone"] for c in contacts[-4:]]
    client.add_dnc(late)
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=90,
             what="campaign completed")
    assert not {e.to for e in read_ledger(clean_state)} & set(late)
    statuses = {p.phone: p.status for p in client.participants(campaign_id)}
    assert {statuses[phone] for phone in late} == {"skipped_dnc"}
    assert {s.phone for s in client.skips(campaign_id) if s.reason == "dnc"} == set(late)


def test_frequency_cap_holds_across_campaigns_and_waits_rather_than_fails(
        make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=300,
                       extra_env={"DIALER_MAX_CALLS_PER_NUMBER_24H": "1"})
    stack.start_worker(concurrency=3)
    stack.start_beat()
    client = stack.client()
    audience = client.create_audience("shared", ny_contacts([["answered"]] * 5))
    first = client.create_campaign(campaign_spec(audience.id, name="first"))
    second = client.create_campaign(campaign_spec(audience.id, name="second"))
    client.start(first.id)
    client.start(second.id)
    def settled():
        everyone = [p for cid in (first.id, second.id) for p in client.participants(cid)]
        done = [p for p in everyone if p.status == "completed"]
        parked = [p for p in everyone if p.status in ("pending", "retry_scheduled")
                  and p.next_attempt_at >= client.now() + timedelta(hours=20)]
        return len(done) == 5 and len(parked) == 5

    wait_for(settled, timeout_s=60,
             what="five numbers called once, the other five contacts parked a day")
    ledger = read_ledger(clean_state)
    assert len(ledger) == 5 and len({e.to for e in ledger}) == 5
    reasons = {s.reason for cid in (first.id, second.id) for s in client.skips(cid)}
    assert "frequency_cap" in reasons


def test_caller_ids_rotate_over_active_numbers_and_all_inactive_stops_dialing(
        make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9, time_scale=120)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    numbers = [client.add_phone_number(f"+1212555{n}") for n in ("0900", "0901", "0902")]
    client.set_phone_number_active(numbers[1].id, False)
    campaign_id = launch(client, ny_contacts([["answered"]] * 6),
                         phone_number_ids=[n.id for n in numbers], pacing={"channels": 1})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="campaign completed")
    used = [c.from_number for c in sorted(client.calls(campaign_id), key=lambda c: c.placed_at)]
    assert used == ["+12125550900", "+12125550902"] * 3

    for number in numbers:
        client.set_phone_number_active(number.id, False)
    idle = launch(client, ny_contacts([["answered"]] * 2, start=50),
                  phone_number_ids=[n.id for n in numbers])
    wait_for(lambda: "no_active_numbers" in [e.action for e in client.events(idle)],
             timeout_s=30, what="the campaign says why it does not dial")
    assert client.get(idle).metrics.calls_placed == 0
