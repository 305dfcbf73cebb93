"""The forecast simulates forward with the calendar, not a formula that ignores it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.forecast import ContactGroup, expected_calls_per_contact, no_calls_reason, simulate
from dialer.spec import CampaignSpec

NY = ("America/New_York",)
MONDAY_9 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 New York


def spec(**overrides) -> CampaignSpec:
    base = {"name": "f", "timezone": "America/New_York", "pacing": {"channels": 10},
            "retry": {"max_retries": 0}}
    base.update(overrides)
    return CampaignSpec.model_validate(base)


def run(s: CampaignSpec, count: int, now: datetime = MONDAY_9, retry_share: float = 0.0,
        avg_call_s: float = 60.0):
    return simulate(spec=s, groups=[ContactGroup(NY, NY, count)], now=now,
                    avg_call_s=avg_call_s, retry_share=retry_share, org_cap=100)


def test_rate_is_channels_over_call_length_and_eta_follows():
    result = run(spec(), 100)
    assert result.calls_per_hour == pytest.approx(600)
    assert result.eta - MONDAY_9 == pytest.approx(timedelta(minutes=10), abs=timedelta(minutes=1))


def test_calls_per_minute_caps_the_rate():
    assert run(spec(pacing={"channels": 10, "calls_per_minute": 6}), 10).calls_per_hour == \
        pytest.approx(360)


def test_the_weekend_passes_without_calls():
    friday_1755 = datetime(2026, 3, 6, 22, 55, tzinfo=UTC)
    result = run(spec(), 100, now=friday_1755)
    # 50 calls fit before 18:00 Friday; the other 50 start Monday 09:00.
    monday_9 = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # clocks went forward on the 8th
    assert monday_9 < result.eta <= monday_9 + timedelta(minutes=7)


def test_a_holiday_is_skipped():
    tuesday = {"holidays": ["2026-03-03"]}
    result = run(spec(schedule=tuesday), 6000)  # 10 hours of calls at 600/h
    # Monday gives 9 hours; Tuesday is a holiday; the last hour is Wednesday morning.
    assert result.eta.astimezone(UTC).date().isoformat() == "2026-03-04"


def test_daily_limit_spreads_over_days():
    result = run(spec(pacing={"channels": 10, "daily_limit": 100}), 250)
    assert result.eta.astimezone(UTC).date().isoformat() == "2026-03-04"


def test_retries_add_expected_calls_after_the_delay():
    s = spec(retry={"max_retries": 2, "retry_delay_minutes": 60})
    result = run(s, 100, retry_share=0.5)
    assert result.expected_calls == pytest.approx(100 * (1 + 0.5 + 0.25))
    # The last wave of retries waits two retry delays.
    assert result.eta - MONDAY_9 >= timedelta(hours=2)


def test_no_channels_means_no_eta():
    result = run(spec(pacing={"channels": 0}), 10)
    assert result.calls_per_hour == 0 and result.eta is None


@settings(max_examples=60, deadline=None)
@given(count=hs.integers(1, 3000), channels=hs.integers(1, 30), call_s=hs.floats(20, 300),
       start_h=hs.integers(0, 24 * 7))
def test_eta_is_never_sooner_than_the_work_at_full_rate(count, channels, call_s, start_h):
    now = MONDAY_9 + timedelta(hours=start_h)
    result = run(spec(pacing={"channels": channels}), count, now=now, avg_call_s=call_s)
    assert result.eta is not None
    minimum = timedelta(hours=count / result.calls_per_hour)
    assert result.eta - now >= minimum - timedelta(minutes=1)


def test_expected_calls_per_contact_is_a_geometric_sum():
    assert expected_calls_per_contact(retry_share=0.5, attempts_left=3) == 1.75
    assert expected_calls_per_contact(retry_share=0.9, attempts_left=1) == 1


def test_why_no_call_would_be_placed_is_said_by_the_forecast():
    def spec(channels: int) -> CampaignSpec:
        return CampaignSpec(name="x", pacing={"channels": channels})

    assert no_calls_reason(spec(0), org_cap=10) == "the pacing has no channels"
    assert no_calls_reason(spec(3), org_cap=0) == "the organisation has no channels"
    assert no_calls_reason(spec(3), org_cap=10) is None
