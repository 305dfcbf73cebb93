"""dialer.calendar: hand-computed cases (incl. both 2026 DST days in New York) and
hypothesis properties checked against an independent reading of the rules."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as phone_timezone

from dialer.calendar import BUSINESS_HOURS, CallingRules, contact_zones, guard_zones
from dialer.spec import WEEKDAYS, Schedule

NY = "America/New_York"
LA = "America/Los_Angeles"
TICK = timedelta(microseconds=1)
EVERY_DAY = list(WEEKDAYS)


def rules(*, tz: str = NY, guard: bool = False, **schedule: Any) -> CallingRules:
    return CallingRules(schedule=Schedule(**schedule), campaign_timezone=tz,
                        business_hours_guard=guard)


def at(tz: str, *args: int) -> datetime:
    """A wall-clock instant; fold=0 (the first pass) when the wall time repeats."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- hand-computed cases ----------------------------------------------------------------

# Default schedule: Mon-Fri 09:00-18:00, read in New York.
@pytest.mark.parametrize(("instant", "expected"), [
    pytest.param(at(NY, 2026, 2, 28, 12), at(NY, 2026, 3, 2, 9), id="saturday->monday"),
    pytest.param(at(NY, 2026, 3, 1, 23, 59), at(NY, 2026, 3, 2, 9), id="sunday-night"),
    pytest.param(at(NY, 2026, 3, 2, 8, 59, 59), at(NY, 2026, 3, 2, 9), id="just-before"),
    pytest.param(at(NY, 2026, 3, 2, 18), at(NY, 2026, 3, 3, 9), id="end-is-exclusive"),
    pytest.param(at(NY, 2026, 3, 2, 17, 59, 59, 999999), at(NY, 2026, 3, 2, 17, 59, 59, 999999),
                 id="open-now"),
    pytest.param(at(NY, 2026, 3, 6, 19), at(NY, 2026, 3, 9, 9), id="friday-evening-over-dst"),
])
def test_next_opening_table(instant: datetime, expected: datetime) -> None:
    opening = rules().next_opening(instant, (NY,))
    assert opening == expected
    assert opening is not None and opening.tzinfo is UTC


def test_closed_reason_names_the_first_rule_that_forbids() -> None:
    r = rules(holidays=["2026-03-03"], start_date="2026-03-02", end_date="2026-03-20")
    assert r.closed_reason(at(NY, 2026, 3, 1, 10), (NY,)) == "before_start_date"
    assert r.closed_reason(at(NY, 2026, 3, 21, 10), (NY,)) == "after_end_date"
    assert r.closed_reason(at(NY, 2026, 3, 7, 10), (NY,)) == "day_not_allowed"
    assert r.closed_reason(at(NY, 2026, 3, 3, 10), (NY,)) == "holiday"
    assert r.closed_reason(at(NY, 2026, 3, 4, 8), (NY,)) == "outside_window"
    assert r.closed_reason(at(NY, 2026, 3, 4, 10), (NY,)) is None
    assert r.is_open(at(NY, 2026, 3, 4, 10), (NY,))
    # The explicit holiday is skipped; after end_date nothing ever opens.
    assert r.next_opening(at(NY, 2026, 3, 2, 18), (NY,)) == at(NY, 2026, 3, 4, 9)
    assert r.next_opening(at(NY, 2026, 3, 20, 18), (NY,)) is None


def test_country_holidays_are_skipped() -> None:
    r = rules(holiday_country="US")
    assert r.closed_reason(at(NY, 2026, 12, 25, 10), (NY,)) == "holiday"  # Christmas (Fri)
    assert r.closed_reason(at(NY, 2026, 11, 26, 10), (NY,)) == "holiday"  # Thanksgiving (Thu)
    assert r.next_opening(at(NY, 2026, 12, 24, 18), (NY,)) == at(NY, 2026, 12, 28, 9)
    assert r.next_opening(at(NY, 2026, 11, 25, 18), (NY,)) == at(NY, 2026, 11, 27, 9)
    assert rules().is_open(at(NY, 2026, 11, 26, 10), (NY,))  # no country, no holiday


def test_each_zone_reads_its_own_clock() -> None:
    r = rules()
    noon = utc(2026, 3, 2, 12)  # Monday: 07:00 in New York, 04:00 in Los Angeles
    assert r.closed_reason(noon, (NY,)) == "outside_window"
    assert r.next_opening(noon, (NY,)) == utc(2026, 3, 2, 14)  # 09:00 EST
    assert r.next_opening(noon, (LA,)) == utc(2026, 3, 2, 17)  # 09:00 PST
    assert r.is_open(utc(2026, 3, 2, 15), (NY,))
    assert not r.is_open(utc(2026, 3, 2, 15), (LA,))


def test_a_contact_in_several_zones_needs_all_of_them_open() -> None:
    r = rules()
    both = (NY, LA)  # open from 09:00 in Los Angeles until 18:00 in New York
    assert r.next_opening(utc(2026, 3, 2, 12), both) == utc(2026, 3, 2, 17)
    assert r.is_open(utc(2026, 3, 2, 23) - TICK, both)
    assert r.closed_reason(utc(2026, 3, 2, 23), both) == "outside_window"
    assert r.next_opening(utc(2026, 3, 2, 23), both) == utc(2026, 3, 3, 17)
    # Friday 09:00 in Los Angeles is Saturday 06:00 in Auckland: the day must be
    # allowed in every zone, not just one.
    assert r.closed_reason(at(LA, 2026, 3, 6, 9), (LA, "Pacific/Auckland")) == "day_not_allowed"


def test_idaho_number_spans_two_zones() -> None:
    zones = contact_zones(phone_e164="+12085550100", contact_timezone=None,
                          campaign_timezone=NY, contact_local_time=True)
    assert set(zones) == {"America/Boise", LA}
    nine_in_boise = at("America/Boise", 2026, 3, 2, 9)  # 08:00 in Los Angeles
    assert rules().closed_reason(nine_in_boise, zones) == "outside_window"
    assert rules().next_opening(nine_in_boise, zones) == at(LA, 2026, 3, 2, 9)


def test_start_and_end_dates_are_read_in_the_campaign_zone() -> None:
    r = rules(tz=LA, start_date="2026-03-03", end_date="2026-03-05", allowed_days=EVERY_DAY,
              call_window={"start": "00:00", "end": "23:59"})
    # 02:00 on the 3rd in New York is still 23:00 on the 2nd in Los Angeles.
    assert r.closed_reason(at(NY, 2026, 3, 3, 2), (NY,)) == "before_start_date"
    assert r.next_opening(at(NY, 2026, 3, 3, 2), (NY,)) == at(LA, 2026, 3, 3, 0)
    # 02:30 on the 6th in New York is still the 5th in Los Angeles: open.
    assert r.is_open(at(NY, 2026, 3, 6, 2, 30), (NY,))
    assert r.closed_reason(at(LA, 2026, 3, 6, 0), (NY,)) == "after_end_date"
    assert r.next_opening(at(LA, 2026, 3, 6, 0), (NY,)) is None
    # A start_date far ahead is reached without walking every day up to it.
    later = rules(start_date="2027-01-04")
    assert later.next_opening(at(NY, 2026, 3, 2, 10), (NY,)) == at(NY, 2027, 1, 4, 9)


def test_business_hours_guard_overrides_a_wide_window() -> None:
    r = rules(guard=True, call_window={"start": "06:00", "end": "23:00"})
    assert r.closed_reason(at(NY, 2026, 3, 2, 7, 30), (NY,)) == "business_hours_guard"
    assert r.closed_reason(at(NY, 2026, 3, 2, 21), (NY,)) == "business_hours_guard"
    assert r.is_open(at(NY, 2026, 3, 2, 21) - TICK, (NY,))
    assert r.next_opening(at(NY, 2026, 3, 2, 6), (NY,)) == at(NY, 2026, 3, 2, 8)
    assert r.next_opening(at(NY, 2026, 3, 2, 21), (NY,)) == at(NY, 2026, 3, 3, 8)
    # The guard reads its own zones (the callee's) when given, else the window's.
    assert r.closed_reason(at(NY, 2026, 3, 2, 10), (NY,), (LA,)) == "business_hours_guard"
    assert r.next_opening(at(NY, 2026, 3, 2, 10), (NY,), (LA,)) == at(LA, 2026, 3, 2, 8)
    # Without the guard, the guard zones are ignored and 06:00 is open.
    assert rules(call_window={"start": "06:00", "end": "23:00"}).is_open(
        at(NY, 2026, 3, 2, 6), (NY,), (LA,))
    assert (time(8), time(21)) == BUSINESS_HOURS


def test_spring_forward_start_in_the_missing_hour_opens_at_three() -> None:
    # 2026-03-08, New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC); 02:30 never happens.
    r = rules(call_window={"start": "02:30", "end": "05:00"}, allowed_days=["sun"])
    opening = r.next_opening(at(NY, 2026, 3, 8, 0), (NY,))
    assert opening == utc(2026, 3, 8, 7)
    assert opening.astimezone(ZoneInfo(NY)).time() == time(3)
    assert not r.is_open(opening - TICK, (NY,))  # 01:59:59.999999 EST


def test_spring_forward_window_in_the_missing_hour_shrinks() -> None:
    # 01:30-02:30 on 2026-03-08 is only 01:30-02:00 EST: half an hour of real time.
    r = rules(call_window={"start": "01:30", "end": "02:30"}, allowed_days=["sun"])
    assert r.next_opening(at(NY, 2026, 3, 8, 0), (NY,)) == utc(2026, 3, 8, 6, 30)
    assert r.is_open(utc(2026, 3, 8, 7) - TICK, (NY,))
    assert r.next_opening(utc(2026, 3, 8, 7), (NY,)) == at(NY, 2026, 3, 15, 1, 30)


def test_nine_to_six_on_both_dst_days() -> None:
    r = rules(allowed_days=["sun"])
    spring = r.next_opening(at(NY, 2026, 3, 8, 0), (NY,))
    assert spring == utc(2026, 3, 8, 13)  # 09:00 EDT
    assert r.is_open(utc(2026, 3, 8, 22) - TICK, (NY,))
    assert not r.is_open(utc(2026, 3, 8, 22), (NY,))  # 18:00 EDT
    fall = r.next_opening(at(NY, 2026, 11, 1, 0), (NY,))
    assert fall == utc(2026, 11, 1, 14)  # 09:00 EST
    assert r.is_open(utc(2026, 11, 1, 23) - TICK, (NY,))
    assert not r.is_open(utc(2026, 11, 1, 23), (NY,))  # 18:00 EST


def test_fall_back_hour_is_open_on_both_passes() -> None:
    # 2026-11-01, New York: 02:00 EDT (06:00 UTC) goes back to 01:00 EST.
    r = rules(call_window={"start": "01:00", "end": "02:00"}, allowed_days=["sun"])
    assert r.next_opening(at(NY, 2026, 11, 1, 0), (NY,)) == utc(2026, 11, 1, 5)
    for minute in (0, 59, 60, 119):  # 01:00 EDT .. 01:59 EST: two real hours
        assert r.is_open(utc(2026, 11, 1, 5) + timedelta(minutes=minute), (NY,))
    assert r.closed_reason(utc(2026, 11, 1, 7), (NY,)) == "outside_window"  # 02:00 EST
    assert r.next_opening(utc(2026, 11, 1, 7), (NY,)) == at(NY, 2026, 11, 8, 1)
    # A half-hour window opens twice that morning.
    half = rules(call_window={"start": "01:00", "end": "01:30"}, allowed_days=["sun"])
    assert half.next_opening(utc(2026, 11, 1, 5, 45), (NY,)) == utc(2026, 11, 1, 6)


def test_contact_zones() -> None:
    def zones(phone: str = "+14155550123", tz: str | None = None,
              local: bool = True) -> tuple[str, ...]:
        return contact_zones(phone_e164=phone, contact_timezone=tz, campaign_timezone=NY,
                             contact_local_time=local)

    assert zones() == (LA,)
    assert zones(tz="Europe/Paris") == ("Europe/Paris",)
    assert zones(tz="Mars/Olympus_Mons") == (LA,)  # an invalid given zone is ignored
    assert zones(tz="Europe/Paris", local=False) == (NY,)
    assert zones("not a number") == (NY,)
    assert zones("+80012345678") == (NY,)  # international freephone: 'Etc/Unknown'
    # Non-geographic numbers (toll-free, Russian mobiles) map to every zone of their
    # country, which says nothing about the callee: the campaign's clock governs.
    assert zones("+18005550100") == (NY,)
    assert zones("+79161234567") == (NY,)
    # A geographic number whose area spans two zones: both govern.
    assert set(zones("+12085550100")) == {"America/Boise", LA}
    assert guard_zones(phone_e164="+14155550123", contact_timezone=None,
                       campaign_timezone=NY) == (LA,)
    assert guard_zones(phone_e164="+14155550123", contact_timezone="Asia/Tokyo",
                       campaign_timezone=NY) == ("Asia/Tokyo",)


def test_every_region_example_number_gets_valid_zones() -> None:
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        if example is None:
            continue
        phone = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        found = contact_zones(phone_e164=phone, contact_timezone=None, campaign_timezone=NY,
                              contact_local_time=True)
        assert found and all(ZoneInfo(z) for z in found), region


def test_zones_that_never_agree_give_none_quickly() -> None:
    # All NANP zones, Guam to Pago Pago, never share a 09:00-18:00 hour.
    toll_free = phone_timezone.time_zones_for_number(phonenumbers.parse("+18005550100"))
    assert rules().next_opening(utc(2026, 3, 2), toll_free) is None
    # The wider business-hours guard alone does find a common time.
    wide = rules(guard=True, allowed_days=EVERY_DAY, call_window={"start": "00:00",
                                                                  "end": "23:59"})
    opening = wide.next_opening(utc(2026, 3, 2), toll_free)
    assert opening is not None and wide.is_open(opening, toll_free)


def test_horizon_and_input_checks() -> None:
    r = rules()
    assert r.next_opening(at(NY, 2026, 2, 28, 12), (NY,), horizon_days=1) is None
    assert r.next_opening(at(NY, 2026, 2, 28, 12), (NY,), horizon_days=3) == at(NY, 2026, 3, 2, 9)
    assert r.closed_reason(at(NY, 2026, 3, 2, 10), ()) is None  # no zones: campaign clock
    assert r.closed_reason(at(NY, 2026, 3, 2, 8), ()) == "outside_window"
    with pytest.raises(ValueError, match="timezone-aware"):
        r.is_open(datetime(2026, 3, 2, 10), (NY,))
    with pytest.raises(ValueError, match="timezone-aware"):
        r.next_opening(datetime(2026, 3, 2, 10), (NY,))


# -- properties --------------------------------------------------------------------------

ZONES = [NY, LA, "Europe/London", "Asia/Kolkata", "Australia/Adelaide", "America/St_Johns",
         "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Auckland", "UTC"]
EXPLICIT_HOLIDAYS = [date(2025, 12, 25), date(2026, 7, 6), date(2027, 1, 1), date(2028, 3, 3)]

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))
windows = st.integers(0, 23 * 60 + 58).flatmap(
    lambda start: st.tuples(st.just(start), st.integers(start + 1, 23 * 60 + 59)))
# One zone (the usual contact) or two (a number that spans zones).
zone_lists = st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True)


Scenario = tuple[CallingRules, tuple[str, ...], tuple[str, ...], datetime]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Rules, window zones, guard zones and an instant; dates near the instant so that
    start_date/end_date matter without usually closing the calendar for good."""
    instant = draw(instants)
    start, end = draw(windows)
    dates: dict[str, date] = {}
    if draw(st.integers(0, 2)) == 0:
        first = instant.date() + timedelta(days=draw(st.integers(-20, 20)))
        dates["start_date"] = first
        if draw(st.booleans()):
            dates["end_date"] = first + timedelta(days=draw(st.integers(0, 60)))
    schedule = Schedule(
        call_window={"start": f"{start // 60:02d}:{start % 60:02d}",
                     "end": f"{end // 60:02d}:{end % 60:02d}"},
        allowed_days=draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)),
        holidays=EXPLICIT_HOLIDAYS,
        holiday_country=draw(st.sampled_from([None, "US", "GB"])),
        **dates,
    )
    r = CallingRules(schedule=schedule, campaign_timezone=draw(st.sampled_from(ZONES)),
                     business_hours_guard=draw(st.booleans()))
    zones = tuple(draw(zone_lists))
    guard = tuple(draw(st.one_of(st.just([]), zone_lists)))
    return r, zones, guard, instant


def obeys_every_rule(r: CallingRules, instant: datetime, zones: tuple[str, ...],
                     guard: tuple[str, ...]) -> bool:
    """The rules re-read from the schedule with zoneinfo and holidays directly."""
    s = r.schedule
    campaign_day = instant.astimezone(ZoneInfo(r.campaign_timezone)).date()
    if (s.start_date and campaign_day < s.start_date) or (s.end_date and campaign_day > s.end_date):
        return False
    for zone in zones:
        local = instant.astimezone(ZoneInfo(zone))
        if WEEKDAYS[local.weekday()] not in s.allowed_days or local.date() in s.holidays:
            return False
        if s.holiday_country and local.date() in holidays.country_holidays(s.holiday_country):
            return False
        if not s.call_window.start_time <= local.time() < s.call_window.end_time:
            return False
    for zone in (guard or zones) if r.business_hours_guard else ():
        if not time(8) <= instant.astimezone(ZoneInfo(zone)).time() < time(21):
            return False
    return True


def boundaries(r: CallingRules, zones: tuple[str, ...], guard: tuple[str, ...],
               lo: datetime, hi: datetime) -> list[datetime]:
    """Instants in [lo, hi) where some rule could start to hold: every local window start,
    guard start and midnight (both folds), capped at 30 local days."""
    out = []
    walls = [r.schedule.call_window.start_time, BUSINESS_HOURS[0], time(0)]
    for zone in {*zones, *guard, r.campaign_timezone}:
        tz = ZoneInfo(zone)
        day = lo.astimezone(tz).date() - timedelta(days=1)
        last = min(hi.astimezone(tz).date(), day + timedelta(days=30))
        while day <= last:
            for wall in walls:
                for fold in (0, 1):
                    u = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold).astimezone(UTC)
                    if lo <= u < hi:
                        out.append(u)
            day += timedelta(days=1)
    return out


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_open_instants_obey_every_rule(scenario: Scenario) -> None:
    r, zones, guard, instant = scenario
    assert r.is_open(instant, zones, guard) == obeys_every_rule(r, instant, zones, guard)
    assert r.is_open(instant, zones, guard) == (r.closed_reason(instant, zones, guard) is None)


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_next_opening_is_the_first_open_instant(scenario: Scenario, seed: int) -> None:
    r, zones, guard, instant = scenario
    opening = r.next_opening(instant, zones, guard)
    if r.is_open(instant, zones, guard):
        event("open now")
        assert opening == instant
        return
    event("opens later" if opening is not None else "never opens")
    # When nothing opens, "earlier" means the whole horizon.
    until = opening if opening is not None else instant + timedelta(days=400)
    if opening is not None:
        assert opening > instant and opening.tzinfo is UTC
        assert r.is_open(opening, zones, guard)
        assert obeys_every_rule(r, opening, zones, guard)
        assert not r.is_open(opening - TICK, zones, guard)
    rng = random.Random(seed)
    ticks = (until - instant) // TICK
    probes = [instant + rng.randrange(ticks) * TICK for _ in range(50)]
    for probe in probes + boundaries(r, zones, guard, instant, until):
        assert not r.is_open(probe, zones, guard), probe
