"""When a contact may be called (CONTRACT §4/§6), as pure functions of the instant.

Windows, days and holidays are read on the local wall clock of every zone
that governs a contact (all must be open); start/end dates on the
campaign's. Daylight-saving days are handled by cutting each local day into
pieces of constant UTC offset: inside a piece, wall time is UTC plus that
offset, so the window's edges are exact instants, never a minute-by-minute
scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
import phonenumbers
from phonenumbers import timezone as phone_timezone

from dialer.spec import WEEKDAYS, Schedule

BUSINESS_HOURS = (time(8, 0), time(21, 0))  # TCPA: callee local time, [08:00, 21:00)
_ONE_DAY = timedelta(days=1)
_TINY = timedelta(microseconds=1)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _valid_zone(name: str | None) -> bool:
    if not name:
        return False
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=65536)
def _number_zones(phone_e164: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return ()
    # A non-geographic number (toll-free, mobile-only ranges) maps to every
    # zone of its country; that says nothing about where the callee is.
    if not phonenumbers.is_number_geographical(number):
        return ()
    zones = phone_timezone.time_zones_for_number(number)
    return tuple(z for z in zones if z != "Etc/Unknown" and _valid_zone(z))


def guard_zones(*, phone_e164: str, contact_timezone: str | None,
                campaign_timezone: str) -> tuple[str, ...]:
    """Zones of the callee's local time: the contact's, else the number's, else the campaign's."""
    if _valid_zone(contact_timezone):
        return (str(contact_timezone),)
    return _number_zones(phone_e164) or (campaign_timezone,)


def contact_zones(*, phone_e164: str, contact_timezone: str | None, campaign_timezone: str,
                  contact_local_time: bool) -> tuple[str, ...]:
    """Zones whose local time governs the calling window (open in all of them)."""
    if not contact_local_time:
        return (campaign_timezone,)
    return guard_zones(phone_e164=phone_e164, contact_timezone=contact_timezone,
                       campaign_timezone=campaign_timezone)


@dataclass(frozen=True)
class _Piece:
    """Part of a local day with one UTC offset: wall = utc + offset."""

    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    offset: timedelta


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def _first_instant_of(day: date, zone: ZoneInfo) -> datetime:
    """The first instant whose local date is ``day``."""
    guess = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    if _local(guess, zone).date() == day and _local(guess - _TINY, zone).date() < day:
        return guess
    # Midnight falls in a gap (or the guess overshot): search the change of date.
    return _search(guess - timedelta(hours=26), guess + timedelta(hours=26),
                   lambda u: _local(u, zone).date() >= day)


def _search(lo: datetime, hi: datetime, reached: Callable[[datetime], bool]) -> datetime:
    """First instant in (lo, hi] where the monotone predicate holds (microsecond exact)."""
    lo_us, hi_us = 0, int((hi - lo) / _TINY)
    while hi_us - lo_us > 1:
        mid = (lo_us + hi_us) // 2
        if reached(lo + mid * _TINY):
            hi_us = mid
        else:
            lo_us = mid
    return lo + hi_us * _TINY


@lru_cache(maxsize=8192)
def _pieces(day: date, zone_name: str) -> tuple[_Piece, ...]:
    zone = _zone(zone_name)
    begin = _first_instant_of(day, zone)
    end = _first_instant_of(day + _ONE_DAY, zone)
    first_offset = _local(begin, zone).utcoffset()
    last_offset = _local(end - _TINY, zone).utcoffset()
    assert first_offset is not None and last_offset is not None
    if first_offset == last_offset:
        return (_Piece(begin, end, first_offset),)
    change = _search(begin, end, lambda u: _local(u, zone).utcoffset() == last_offset)
    return (_Piece(begin, change, first_offset), _Piece(change, end, last_offset))


def _wall_intervals(day: date, zone_name: str, start: time,
                    end: time) -> list[tuple[datetime, datetime]]:
    """UTC intervals of ``day`` whose local wall time lies in [start, end)."""
    out = []
    naive_start = datetime.combine(day, start, tzinfo=UTC)
    naive_end = datetime.combine(day, end, tzinfo=UTC) if end != time(0) else (
        datetime.combine(day + _ONE_DAY, time(0), tzinfo=UTC))
    for piece in _pieces(day, zone_name):
        lo = max(piece.start, naive_start - piece.offset)
        hi = min(piece.end, naive_end - piece.offset)
        if lo < hi:
            out.append((lo, hi))
    return out


@dataclass(frozen=True)
class CallingRules:
    schedule: Schedule
    campaign_timezone: str
    business_hours_guard: bool = False
    _country: holidays_lib.HolidayBase | None = field(default=None, init=False, repr=False,
                                                      compare=False)

    def __post_init__(self) -> None:
        if self.schedule.holiday_country:
            object.__setattr__(self, "_country",
                               holidays_lib.country_holidays(self.schedule.holiday_country))

    # -- questions about one instant -------------------------------------------------

    def closed_reason(self, instant: datetime, zones: Sequence[str],
                      guard: Sequence[str] = ()) -> str | None:
        """None when a call may be placed at ``instant``, else the first rule that forbids it."""
        campaign_day = _local(instant, _zone(self.campaign_timezone)).date()
        if self.schedule.start_date and campaign_day < self.schedule.start_date:
            return "before_start_date"
        if self.schedule.end_date and campaign_day > self.schedule.end_date:
            return "after_end_date"
        window = self.schedule.call_window
        locals_ = [_local(instant, _zone(z)) for z in zones]
        if any(not self._day_allowed(local.date()) for local in locals_):
            return "day_not_allowed"
        if any(self._is_holiday(local.date()) for local in locals_):
            return "holiday"
        if any(not (window.start_time <= local.time() < window.end_time) for local in locals_):
            return "outside_window"
        if self.business_hours_guard:
            lo, hi = BUSINESS_HOURS
            for z in guard or zones:
                if not (lo <= _local(instant, _zone(z)).time() < hi):
                    return "business_hours_guard"
        return None

    def is_open(self, instant: datetime, zones: Sequence[str], guard: Sequence[str] = ()) -> bool:
        return self.closed_reason(instant, zones, guard) is None

    def next_opening(self, instant: datetime, zones: Sequence[str], guard: Sequence[str] = (),
                     *, horizon_days: int = 400) -> datetime | None:
        """The earliest instant >= ``instant`` at which a call may be placed, or None."""
        limit = instant + timedelta(days=horizon_days)
        candidate = instant.astimezone(UTC)
        window = self.schedule.call_window
        guard_zones_ = tuple(guard or zones) if self.business_hours_guard else ()
        # Each rule's own earliest opening; all must hold, so jump to the latest
        # and ask again until they agree (each jump is to an exact edge).
        for _ in range(10_000):
            if self.closed_reason(candidate, zones, guard) is None:
                return candidate
            if candidate > limit:
                return None
            if self.schedule.end_date and (
                    _local(candidate, _zone(self.campaign_timezone)).date()
                    > self.schedule.end_date):
                return None
            nexts: list[datetime | None] = [self._start_date_opening(candidate)]
            nexts += [self._earliest_in(candidate, z, window.start_time, window.end_time,
                                        self._calling_day, limit) for z in zones]
            nexts += [self._earliest_in(candidate, z, *BUSINESS_HOURS, lambda d: True, limit)
                      for z in guard_zones_]
            if any(n is None for n in nexts):
                return None
            latest = max(n for n in nexts if n is not None)
            candidate = latest if latest > candidate else candidate + _TINY
        return None

    # -- helpers ---------------------------------------------------------------------

    def _start_date_opening(self, instant: datetime) -> datetime:
        if not self.schedule.start_date:
            return instant
        opening = _first_instant_of(self.schedule.start_date, _zone(self.campaign_timezone))
        return max(instant, opening)

    def _day_allowed(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.schedule.allowed_days

    def _is_holiday(self, day: date) -> bool:
        return day in self.schedule.holidays or (self._country is not None and day in self._country)

    def _calling_day(self, day: date) -> bool:
        return self._day_allowed(day) and not self._is_holiday(day)

    @staticmethod
    def _earliest_in(instant: datetime, zone_name: str, start: time, end: time,
                     day_ok: Callable[[date], bool], limit: datetime) -> datetime | None:
        """Earliest u >= instant with day_ok(local date) and local wall time in [start, end)."""
        day = _local(instant, _zone(zone_name)).date()
        while True:
            if day_ok(day):
                for lo, hi in _wall_intervals(day, zone_name, start, end):
                    if hi > instant:
                        return max(lo, instant)
            day += _ONE_DAY
            if _first_instant_of(day, _zone(zone_name)) > limit:
                return None
