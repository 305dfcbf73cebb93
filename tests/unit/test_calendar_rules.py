"""Calendar rules: table of hand-computed cases plus hypothesis properties, incl. DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.calendar import CallingRules, contact_zones, guard_zones
from dialer.spec import WEEKDAYS, Schedule

NY = "America/New_York"
LA = "America/Los_Angeles"


def rules(guard: bool = False, tz: str = NY, **schedule) -> CallingRules:
    return CallingRules(schedule=Schedule(**schedule), campaign_timezone=tz,
                        business_hours_guard=guard)


def at(tz: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


@pytest.mark.parametrize(("instant", "expected"), [
    (at(NY, 2026, 2, 28, 12, 0), at(NY, 2026, 3, 2, 9, 0)),     # Saturday -> Monday 09:00
    (at(NY, 2026, 3, 2, 18, 0), at(NY, 2026, 3, 3, 9, 0)),      # window end is exclusive
    (at(NY, 2026, 3, 2, 17, 59), at(NY, 2026, 3, 2, 17, 59)),   # open now
    (at(NY, 2026, 3, 6, 19, 0), at(NY, 2026, 3, 9, 9, 0)),      # Friday evening, over DST
])
def test_next_opening_table(instant, expected):
    assert rules().next_opening(instant, (NY,)) == expected


def test_closed_reasons_name_the_rule():
    r = rules(holidays=["2026-03-03"], start_date="2026-03-02", end_date="2026-03-20")
    assert r.closed_reason(at(NY, 2026, 3, 1, 10), (NY,)) == "before_start_date"
    assert r.closed_reason(at(NY, 2026, 3, 21, 10), (NY,)) == "after_end_date"
    assert r.closed_reason(at(NY, 2026, 3, 7, 10), (NY,)) == "day_not_allowed"
    assert r.closed_reason(at(NY, 2026, 3, 3, 10), (NY,)) == "holiday"
    assert r.closed_reason(at(NY, 2026, 3, 4, 8), (NY,)) == "outside_window"
    assert r.closed_reason(at(NY, 2026, 3, 4, 10), (NY,)) is None
    assert r.next_opening(at(NY, 2026, 3, 21, 10), (NY,)) is None


def test_country_holidays_are_skipped():
    r = rules(holiday_country="US")
    assert r.closed_reason(at(NY, 2026, 11, 26, 10), (NY,)) == "holiday"  # Thanksgiving
    assert r.closed_reason(at(NY, 2026, 12, 25, 10), (NY,)) == "holiday"
    assert r.next_opening(at(NY, 2026, 12, 24, 18), (NY,)) == at(NY, 2026, 12, 28, 9)


def test_each_contact_is_read_in_its_own_zone():
    r = rules()
    noon_utc = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 New York, 07:00 Los Angeles
    assert r.is_open(noon_utc, (NY,))
    assert r.closed_reason(noon_utc, (LA,)) == "outside_window"
    assert r.next_opening(noon_utc, (LA,)) == at(LA, 2026, 3, 2, 9, 0)
    # A contact governed by both zones is open only when both are.
    assert r.next_opening(noon_utc, (NY, LA)) == at(LA, 2026, 3, 2, 9, 0)


def test_dates_are_read_in_the_campaign_zone():
    r = rules(tz=LA, start_date="2026-03-03", allowed_days=list(WEEKDAYS),
              call_window={"start": "00:00", "end": "23:59"})
    # 02:00 on the 3rd in New York is still the 2nd in Los Angeles.
    assert r.closed_reason(at(NY, 2026, 3, 3, 2), (NY,)) == "before_start_date"
    assert r.next_opening(at(NY, 2026, 3, 3, 2), (NY,)) == at(LA, 2026, 3, 3, 0, 0)


def test_business_hours_guard_overrides_a_wide_window():
    r = rules(guard=True, call_window={"start": "06:00", "end": "23:00"})
    assert r.closed_reason(at(NY, 2026, 3, 2, 7, 30), (NY,)) == "business_hours_guard"
    assert r.closed_reason(at(NY, 2026, 3, 2, 21, 0), (NY,)) == "business_hours_guard"
    assert r.next_opening(at(NY, 2026, 3, 2, 6, 0), (NY,)) == at(NY, 2026, 3, 2, 8, 0)
    # The guard reads the callee's zone even when the window is the campaign's.
    assert r.closed_reason(at(NY, 2026, 3, 2, 10), (NY,), (LA,)) == "business_hours_guard"


def test_spring_forward_window_start_in_the_missing_hour_opens_at_three():
    r = rules(call_window={"start": "02:30", "end": "05:00"}, allowed_days=["sun"])
    opening = r.next_opening(at(NY, 2026, 3, 8, 0, 0), (NY,))
    assert opening == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert opening.astimezone(ZoneInfo(NY)).time() == time(3, 0)


def test_nine_to_six_on_both_dst_days():
    r = rules(allowed_days=["sun"])
    for day in (8, ):  # spring forward (March 8, 2026)
        opening = r.next_opening(at(NY, 2026, 3, day, 0, 0), (NY,))
        assert opening.astimezone(ZoneInfo(NY)).time() == time(9, 0)
    fall = r.next_opening(at(NY, 2026, 11, 1, 0, 0), (NY,))
    assert fall == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert not r.is_open(datetime(2026, 11, 1, 23, 0, tzinfo=UTC), (NY,))  # 18:00 EST


def test_fall_back_hour_is_open_twice():
    r = rules(call_window={"start": "01:00", "end": "01:30"}, allowed_days=["sun"])
    first = r.next_opening(at(NY, 2026, 11, 1, 0, 0), (NY,))
    assert first == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT
    after_first = datetime(2026, 11, 1, 5, 45, tzinfo=UTC)   # 01:45 EDT
    assert r.next_opening(after_first, (NY,)) == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def test_contact_zones():
    assert contact_zones(phone_e164="+14155550123", contact_timezone=None,
                         campaign_timezone=NY, contact_local_time=True) == (LA,)
    assert contact_zones(phone_e164="+14155550123", contact_timezone="Europe/Paris",
                         campaign_timezone=NY, contact_local_time=True) == ("Europe/Paris",)
    assert contact_zones(phone_e164="+14155550123", contact_timezone=None,
                         campaign_timezone=NY, contact_local_time=False) == (NY,)
    # Toll-free numbers say nothing about where the callee is.
    assert contact_zones(phone_e164="+18005550100", contact_timezone=None,
                         campaign_timezone=NY, contact_local_time=True) == (NY,)
    assert guard_zones(phone_e164="+14155550123", contact_timezone=None,
                       campaign_timezone=NY) == (LA,)


def test_a_number_in_several_zones_needs_all_of_them_open():
    # Idaho's 208 spans Mountain (Boise) and Pacific time.
    zones = contact_zones(phone_e164="+12085550100", contact_timezone=None,
                          campaign_timezone=NY, contact_local_time=True)
    assert set(zones) == {"America/Boise", LA}
    r = rules()
    nine_boise = at("America/Boise", 2026, 3, 2, 9, 0)
    assert not r.is_open(nine_boise, zones)  # 08:00 in Los Angeles
    assert r.next_opening(nine_boise, zones) == at(LA, 2026, 3, 2, 9, 0)


ZONES = [NY, LA, "Europe/London", "Asia/Kolkata", "Australia/Adelaide", "America/St_Johns",
         "Pacific/Auckland", "UTC"]
instants = hs.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=hs.just(UTC))
windows = hs.tuples(hs.integers(0, 23 * 60), hs.integers(1, 12 * 60)).map(
    lambda p: (p[0], min(p[0] + p[1], 23 * 60 + 59)))
day_sets = hs.lists(hs.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)


def build(window, days, guard) -> CallingRules:
    start, end = window
    hhmm = f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"
    return rules(guard=guard, call_window={"start": hhmm[0], "end": hhmm[1]},
                 allowed_days=days, holidays=["2026-12-25", "2027-01-01"])


@settings(max_examples=250, deadline=None)
@given(instant=instants, window=windows, days=day_sets,
       zones=hs.lists(hs.sampled_from(ZONES), min_size=1, max_size=2, unique=True),
       guard=hs.booleans())
def test_open_instants_obey_every_rule(instant, window, days, zones, guard):
    r = build(window, days, guard)
    if not r.is_open(instant, zones):
        return
    for zone in zones:
        local = instant.astimezone(ZoneInfo(zone))
        assert WEEKDAYS[local.weekday()] in days
        assert local.date().isoformat() not in ("2026-12-25", "2027-01-01")
        assert r.schedule.call_window.start_time <= local.time() < r.schedule.call_window.end_time
        if guard:
            assert time(8) <= local.time() < time(21)


@settings(max_examples=250, deadline=None)
@given(instant=instants, window=windows, days=day_sets,
       zones=hs.lists(hs.sampled_from(ZONES), min_size=1, max_size=2, unique=True),
       guard=hs.booleans(), probes=hs.lists(hs.floats(0, 1), min_size=20, max_size=20))
def test_next_opening_is_open_and_nothing_earlier_is(instant, window, days, zones, guard,
                                                     probes):
    r = build(window, days, guard)
    opening = r.next_opening(instant, zones)
    if opening is None:  # possible only when zones can never agree
        return
    assert opening >= instant
    assert r.is_open(opening, zones)
    if opening == instant:
        return
    assert not r.is_open(opening - timedelta(microseconds=1), zones)
    span = opening - instant
    for fraction in probes:
        assert not r.is_open(instant + span * fraction * 0.999999, zones)
