from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.recurrence import next_period_start

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("recurrence", "started", "expected"), [
    ("daily", datetime(2026, 3, 2, 9, 5, tzinfo=NY), datetime(2026, 3, 3, tzinfo=NY)),
    ("weekly", datetime(2026, 3, 2, 9, 5, tzinfo=NY), datetime(2026, 3, 9, tzinfo=NY)),
    ("monthly", datetime(2026, 1, 31, 9, 5, tzinfo=NY), datetime(2026, 2, 28, tzinfo=NY)),
    ("monthly", datetime(2026, 12, 15, 9, 5, tzinfo=NY), datetime(2027, 1, 15, tzinfo=NY)),
    # Across the spring-forward night: local midnight, not 24 hours later.
    ("daily", datetime(2026, 3, 7, 23, 0, tzinfo=NY), datetime(2026, 3, 8, tzinfo=NY)),
])
def test_next_period_starts_at_local_midnight(recurrence, started, expected):
    assert next_period_start(recurrence, started=started, now=started, zone=NY) == expected


def test_a_run_that_outlasted_its_period_goes_to_the_next_one_after_now():
    started = datetime(2026, 3, 2, 9, tzinfo=NY)
    now = datetime(2026, 3, 4, 10, tzinfo=NY)
    assert next_period_start("daily", started=started, now=now, zone=NY) == \
        datetime(2026, 3, 5, tzinfo=NY)


@settings(max_examples=200, deadline=None)
@given(offset_h=hs.integers(0, 24 * 400), run_h=hs.integers(0, 24 * 40),
       recurrence=hs.sampled_from(["daily", "weekly", "monthly"]))
def test_next_run_is_in_the_future_and_within_one_period_of_now(offset_h, run_h, recurrence):
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=offset_h)
    now = started + timedelta(hours=run_h)
    nxt = next_period_start(recurrence, started=started, now=now, zone=NY)
    assert nxt > now
    assert nxt.astimezone(NY).time().hour == 0
    assert nxt - now <= timedelta(days=31, hours=1)
