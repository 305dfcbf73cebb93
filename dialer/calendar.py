"""When a contact may be called (docs/spec.md, docs/contract.md §6): pure functions of the instant.

The call window, allowed days and holidays are read on the local wall clock of
every zone that governs a contact (all of them must be open); start/end dates
on the campaign's wall clock; the business-hours guard on the callee's.

``next_opening`` never scans minute by minute. Within a stretch of constant
UTC offset, wall time is UTC plus that offset, so every wall-clock rule is a
list of exact UTC spans; the answer is the start of the first span in the
intersection of all the rules' spans. DST needs no special case: a window
edge that falls in a spring-forward gap is clipped to the instant the clocks
jump, and a fall-back hour simply yields a span for each pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from phonenumbers import timezone as phone_timezone

from dialer.spec import WEEKDAYS, CampaignSpec, Schedule, is_iana_zone

BUSINESS_HOURS = (time(8, 0), time(21, 0))  # TCPA guard, callee local time, [08:00, 21:00)

Span = tuple[datetime, datetime]  # [start, end) in UTC
_Piece = tuple[datetime, datetime, timedelta]  # [start, end) in UTC, and the offset there

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)  # datetime's resolution: openings are exact to it
# No UTC offset exceeds 14 h, so an instant whose local date is D is never
# earlier than D 00:00 (read as UTC) minus this: lets start_date skip ahead.
_MAX_OFFSET = timedelta(hours=15)


# -- which zones govern a contact ------------------------------------------------------


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _valid_zone(name: str | None) -> bool:
    return name is not None and name != "" and is_iana_zone(name)


@lru_cache(maxsize=65536)
def _number_zones(phone_e164: str) -> tuple[str, ...]:
    """Zones phonenumbers places the number in; () when it cannot tell."""
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return ()
    # A non-geographic number (toll-free, many mobile ranges) maps to every zone
    # of its country: +1 800 spans Guam to Newfoundland, so "open in all of them"
    # would never open. It says nothing about where the callee is: campaign zone.
    if not phonenumbers.is_number_geographical(number):
        return ()
    # 'Etc/Unknown' is phonenumbers' "no idea", not a zone to read a clock in.
    return tuple(z for z in phone_timezone.time_zones_for_number(number)
                 if z != "Etc/Unknown" and _valid_zone(z))


def guard_zones(*, phone_e164: str, contact_timezone: str | None,
                campaign_timezone: str) -> tuple[str, ...]:
    """The callee's local zones: the contact's own, else every zone of the number, else
    the campaign's. A number spanning several zones must be open in all of them."""
    if contact_timezone is not None and _valid_zone(contact_timezone):
        return (contact_timezone,)
    return _number_zones(phone_e164) or (campaign_timezone,)


def contact_zones(*, phone_e164: str, contact_timezone: str | None, campaign_timezone: str,
                  contact_local_time: bool) -> tuple[str, ...]:
    """Zones whose local time governs the calling window (it must be open in all)."""
    if not contact_local_time:
        return (campaign_timezone,)
    return guard_zones(phone_e164=phone_e164, contact_timezone=contact_timezone,
                       campaign_timezone=campaign_timezone)


# -- wall-clock rules as UTC spans -----------------------------------------------------


@lru_cache(maxsize=512)
def _country_holidays(code: str, year: int) -> frozenset[date]:
    # Built once per (country, year) and shared by every CallingRules: rules are
    # rebuilt per tick, and an immutable set is safe across worker threads. The next
    # year is populated too, in case a version of `holidays` files an observed day
    # (New Year's Day observed on Friday Dec 31) under the year it observes.
    return frozenset(d for d in holidays.country_holidays(code, years=(year, year + 1))
                     if d.year == year)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        # astimezone() would silently read a naive value as the server's local time.
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _pieces(zone: ZoneInfo, lo: datetime, hi: datetime) -> Iterator[_Piece]:
    """Split [lo, hi) where the zone's UTC offset changes; within a piece, wall = utc + offset.

    Callers pass at most a day; no zone changes its offset twice within a day, so
    equal offsets at both ends mean no change, and one binary search finds a change.
    """
    while lo < hi:
        first = _offset(zone, lo)
        if _offset(zone, hi - _TICK) == first:
            yield lo, hi, first
            return
        same, changed = 0, (hi - lo) // _TICK - 1  # in ticks from lo
        while changed - same > 1:
            mid = (same + changed) // 2
            if _offset(zone, lo + mid * _TICK) == first:
                same = mid
            else:
                changed = mid
        yield lo, lo + changed * _TICK, first
        lo += changed * _TICK


def _wall_spans(zone: ZoneInfo, lo: datetime, hi: datetime, start: time, end: time | None,
                day_ok: Callable[[date], bool]) -> list[Span]:
    """UTC spans in [lo, hi) whose local wall time is in [start, end) on a day with
    day_ok(day); end None means up to the midnight that ends the day. Sorted, disjoint."""
    out: list[Span] = []
    for piece_lo, piece_hi, offset in _pieces(zone, lo, hi):
        wall_lo = piece_lo.replace(tzinfo=None) + offset
        wall_hi = piece_hi.replace(tzinfo=None) + offset
        day = wall_lo.date()
        while day <= wall_hi.date():
            if day_ok(day):
                wall_start = datetime.combine(day, start)
                wall_end = (datetime.combine(day + _DAY, time()) if end is None
                            else datetime.combine(day, end))
                # Wall times the piece never shows (a spring-forward gap) clip to its edge.
                a = max(piece_lo, (wall_start - offset).replace(tzinfo=UTC))
                b = min(piece_hi, (wall_end - offset).replace(tzinfo=UTC))
                if a < b:
                    out.append((a, b))
            day += _DAY
    return out


def _any_day(day: date) -> bool:
    return True


def _intersect(left: list[Span], right: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if a < b:
            out.append((a, b))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


# -- the rules of one campaign ---------------------------------------------------------


@dataclass(frozen=True)
class CallingRules:
    """A campaign's calendar; build once per campaign, ask per contact and instant."""

    schedule: Schedule
    campaign_timezone: str
    business_hours_guard: bool = False
    # Derived once from the schedule so the per-contact questions stay cheap.
    _campaign_zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _weekdays: frozenset[int] = field(init=False, repr=False, compare=False)
    _holidays: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: only here may the caches be filled
        set_(self, "_campaign_zone", _zone(self.campaign_timezone))
        set_(self, "_weekdays", frozenset(WEEKDAYS.index(d) for d in self.schedule.allowed_days))
        set_(self, "_holidays", frozenset(self.schedule.holidays))

    @classmethod
    def of(cls, spec: CampaignSpec) -> CallingRules:
        """The one way a campaign's calendar is built from its spec."""
        return cls(schedule=spec.schedule, campaign_timezone=spec.timezone,
                   business_hours_guard=spec.safety.business_hours_guard)

    def closed_reason(self, instant: datetime, zones: Sequence[str],
                      guard: Sequence[str] = ()) -> str | None:
        """None if a call may be placed at ``instant``, else the first rule that forbids it."""
        now = _utc(instant)
        zones, guard = self._zones(zones, guard)
        first, last = self.schedule.start_date, self.schedule.end_date
        if first or last:
            campaign_day = now.astimezone(self._campaign_zone).date()
            if first and campaign_day < first:
                return "before_start_date"
            if last and campaign_day > last:
                return "after_end_date"
        local = [now.astimezone(_zone(z)) for z in zones]
        if any(t.weekday() not in self._weekdays for t in local):
            return "day_not_allowed"
        if any(self._is_holiday(t.date()) for t in local):
            return "holiday"
        window = self.schedule.call_window
        if any(not window.start_time <= t.time() < window.end_time for t in local):
            return "outside_window"
        lo, hi = BUSINESS_HOURS
        if any(not lo <= now.astimezone(_zone(z)).time() < hi for z in guard):
            return "business_hours_guard"
        return None

    def is_open(self, instant: datetime, zones: Sequence[str],
                guard: Sequence[str] = ()) -> bool:
        return self.closed_reason(instant, zones, guard) is None

    def next_opening(self, instant: datetime, zones: Sequence[str], guard: Sequence[str] = (),
                     *, horizon_days: int = 400) -> datetime | None:
        """The earliest instant >= ``instant`` (in UTC) at which a call may be placed:
        ``instant`` itself if open now, None if nothing opens within ``horizon_days``."""
        now = _utc(instant)
        if self.is_open(now, zones, guard):
            return now
        zones, guard = self._zones(zones, guard)
        limit = now + timedelta(days=horizon_days)
        cursor = now
        if self.schedule.start_date:
            skip_to = datetime.combine(self.schedule.start_date, time(), tzinfo=UTC) - _MAX_OFFSET
            cursor = max(cursor, skip_to)
        window = self.schedule.call_window
        # Every rule as (zone, wall start, wall end, which local days count).
        rules: list[tuple[ZoneInfo, time, time | None, Callable[[date], bool]]] = []
        if self.schedule.start_date or self.schedule.end_date:
            rules.append((self._campaign_zone, time(), None, self._within_dates))
        rules += [(_zone(z), window.start_time, window.end_time, self._calling_day)
                  for z in zones]
        rules += [(_zone(z), *BUSINESS_HOURS, _any_day) for z in guard]
        # One day at a time: each rule's spans are exact, so the first instant
        # of their intersection is the opening.
        while cursor < limit:
            if self._past_end_date(cursor):
                return None  # local dates only move forward: end_date is behind us
            chunk_end = min(cursor + _DAY, limit)
            spans = [(cursor, chunk_end)]
            for zone, start, end, day_ok in rules:
                spans = _intersect(spans, _wall_spans(zone, cursor, chunk_end, start, end,
                                                      day_ok))
                if not spans:
                    break
            if spans:
                return spans[0][0]
            cursor = chunk_end
        return None

    # -- helpers ---------------------------------------------------------------------

    def _zones(self, zones: Sequence[str],
               guard: Sequence[str]) -> tuple[Sequence[str], Sequence[str]]:
        """The window's zones and the guard's (empty when the guard is off)."""
        # No zones would make the window vacuously open; read it on the campaign's clock.
        zones = zones or (self.campaign_timezone,)
        return zones, ((guard or zones) if self.business_hours_guard else ())

    def _is_holiday(self, day: date) -> bool:
        if day in self._holidays:
            return True
        code = self.schedule.holiday_country
        return code is not None and day in _country_holidays(code, day.year)

    def _calling_day(self, day: date) -> bool:
        return day.weekday() in self._weekdays and not self._is_holiday(day)

    def _within_dates(self, day: date) -> bool:
        first, last = self.schedule.start_date, self.schedule.end_date
        return (first is None or day >= first) and (last is None or day <= last)

    def _past_end_date(self, instant: datetime) -> bool:
        last = self.schedule.end_date
        return last is not None and instant.astimezone(self._campaign_zone).date() > last
