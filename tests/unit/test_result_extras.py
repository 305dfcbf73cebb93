"""A result's optional extras (recording and transcript links, cost): checked like the
rest of ``dialer.call_result``'s arguments, and reported by the simulated provider."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dialer.errors import ValidationError
from dialer.provider import NO_EXTRAS, ResultExtras
from dialer.providers.simulated import SimulatedProvider
from dialer.task_args import parse_call_result
from tests.support.clock import FakeClock
from tests.unit.test_simulated_provider import RecordingDispatcher, request

CALL_ID = "6f1c2f9e-0000-4000-8000-000000000001"


def parse(**extras: Any):
    return parse_call_result([], {"call_id": CALL_ID, "outcome": "answered", **extras})


def test_an_old_sender_without_extras_still_passes() -> None:
    parsed = parse()
    assert (parsed.recording_url, parsed.transcript_url, parsed.cost) == (None, None, None)


def test_extras_are_taken_as_given() -> None:
    parsed = parse(recording_url="https://media.example.com/r/1.wav",
                   transcript_url="http://media.example.com/t/1.txt", cost="0.0265")
    assert parsed.recording_url == "https://media.example.com/r/1.wav"
    assert parsed.transcript_url == "http://media.example.com/t/1.txt"
    assert parsed.cost == Decimal("0.026500")


@pytest.mark.parametrize(("cost", "expected"), [
    (0, Decimal("0")), (1, Decimal("1")), (0.1, Decimal("0.1")), ("12.5", Decimal("12.5")),
    ("0.0000004", Decimal("0")), ("99999999.999999", Decimal("99999999.999999"))])
def test_a_cost_is_a_decimal_from_a_number_or_a_string(cost: Any, expected: Decimal) -> None:
    assert parse(cost=cost).cost == expected


@pytest.mark.parametrize("cost", [-0.01, "-1", True, "abc", "nan", "Infinity", float("inf"),
                                  "1e30", 100_000_000, [], {}])
def test_a_bad_cost_is_named(cost: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse(cost=cost)
    assert [field for field, _ in exc.value.errors] == ["cost"]


@pytest.mark.parametrize("url", ["ftp://media.example.com/1.wav", "media.example.com/1.wav",
                                 "https://", "javascript:alert(1)", "https://a b/c", "",
                                 "https://x/" + "a" * 2000, 12, "https://x/\x00"])
def test_a_bad_link_is_named(url: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse(recording_url=url, transcript_url=url)
    assert sorted(field for field, _ in exc.value.errors) == ["recording_url", "transcript_url"]


def test_extras_come_after_org_by_position() -> None:
    parsed = parse_call_result([CALL_ID, "answered", 1.0, None, None, None,
                                "https://m.example.com/r"], {})
    assert parsed.recording_url == "https://m.example.com/r"


def test_only_the_extras_given_are_sent() -> None:
    assert NO_EXTRAS.task_kwargs() == {}
    assert ResultExtras(cost=Decimal("0.013")).task_kwargs() == {"cost": "0.013"}


def simulated(**kwargs: Any) -> tuple[SimulatedProvider, RecordingDispatcher]:
    dispatcher = RecordingDispatcher()
    clock = FakeClock(datetime(2026, 3, 2, tzinfo=UTC), time_scale=10)
    return SimulatedProvider(dispatcher=dispatcher, clock=clock, **kwargs), dispatcher


def test_the_simulated_provider_reports_links_for_answered_calls_and_a_cost_per_minute():
    sim, dispatcher = simulated(cost_per_minute=Decimal("0.013"))
    sim.place_call(request(1, 1, sim_outcomes=["answered"], sim_duration_s=61))
    sim.place_call(request(1, 2, sim_outcomes=["no_answer"]))
    answered, no_answer = (r["extras"] for r in dispatcher.results)
    assert answered.recording_url.startswith("https://") and answered.recording_url.endswith(
        "call-1-1.wav")
    assert answered.transcript_url.endswith("call-1-1.txt")
    assert answered.cost == Decimal("0.026")  # two started minutes
    assert (no_answer.recording_url, no_answer.transcript_url, no_answer.cost) == (
        None, None, Decimal("0"))
    # What the task would receive passes its own checks.
    parse(**answered.task_kwargs())


def test_without_a_rate_the_simulated_provider_reports_no_cost():
    sim, dispatcher = simulated()
    sim.place_call(request(1, 1, sim_outcomes=["answered"]))
    assert dispatcher.results[0]["extras"].cost is None
