"""The simulated provider: scripted and seeded outcomes, reported through the dispatcher."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from dialer.provider import CallRequest
from dialer.providers.simulated import SimulatedProvider
from dialer.statuses import Outcome
from tests.support.clock import FakeClock


class RecordingDispatcher:
    def __init__(self) -> None:
        self.results: list[dict] = []

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        raise AssertionError("the provider never dials")

    def send_result(self, call_id: str, **kwargs) -> None:
        self.results.append({"call_id": call_id, **kwargs})


def request(attempt: int = 1, contact_id: int = 1, **attributes) -> CallRequest:
    return CallRequest(call_id=f"call-{contact_id}-{attempt}", campaign_id="c1",
                       contact_id=contact_id, attempt=attempt, to="+12125550001",
                       from_number=None, agent_id="a", ring_timeout_s=30, max_duration_s=600,
                       attributes=attributes)


def provider(**kwargs) -> tuple[SimulatedProvider, RecordingDispatcher]:
    dispatcher = RecordingDispatcher()
    clock = FakeClock(datetime(2026, 3, 2, tzinfo=UTC), time_scale=10)
    return SimulatedProvider(dispatcher=dispatcher, clock=clock, **kwargs), dispatcher


def test_scripted_outcomes_follow_the_attempt_number():
    sim, _ = provider()
    script = ["no_answer", "busy", "answered"]
    assert [sim.plan(request(a, sim_outcomes=script)).outcome for a in (1, 2, 3, 4)] == [
        "no_answer", "busy", "answered", "answered"]


def test_result_is_sent_after_the_simulated_call_time_scaled_to_real_time():
    sim, dispatcher = provider()
    sim.place_call(request(sim_outcomes=["answered"], sim_ring_s=5, sim_duration_s=45))
    [sent] = dispatcher.results
    assert sent["outcome"] == Outcome.ANSWERED
    assert sent["duration_s"] == 45
    assert sent["countdown_s"] == pytest.approx(5.0)  # 50 simulated seconds at x10


def test_no_answer_rings_until_the_ring_timeout():
    sim, _ = provider()
    plan = sim.plan(request(sim_outcomes=["no_answer"]))
    assert plan.ring_s == 30 and plan.talk_s == 0


def test_seeded_draws_are_deterministic_and_follow_the_rates():
    rates = {"answered": 0.7, "busy": 0.3}
    first, _ = provider(seed=5, outcome_rates=rates)
    again, _ = provider(seed=5, outcome_rates=rates)
    plans = [first.plan(request(contact_id=i)).outcome for i in range(2000)]
    assert plans == [again.plan(request(contact_id=i)).outcome for i in range(2000)]
    share = Counter(plans)["answered"] / len(plans)
    assert 0.65 < share < 0.75


def test_unknown_outcome_rates_are_rejected():
    with pytest.raises(ValueError, match="sim_outcome_rates"):
        provider(outcome_rates={"maybe": 1.0})
