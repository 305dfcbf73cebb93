"""When a recurring campaign's next run starts (pure)."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_period_start(recurrence: str, *, started: datetime, now: datetime,
                      zone: ZoneInfo) -> datetime:
    """Local midnight of the first period after the one the run started in, and after now.

    ``daily``: the next day; ``weekly``: the same weekday a week later;
    ``monthly``: the same day of the next month (or its last day). The
    calendar then opens the window on that day; a run that outlasted its
    period goes to the first period start after ``now``.
    """
    day = started.astimezone(zone).date()
    while True:
        day = _advance(day, recurrence)
        start = datetime.combine(day, time(0), tzinfo=zone)
        if start > now:
            return start


def _advance(day: date, recurrence: str) -> date:
    if recurrence == "daily":
        return day + timedelta(days=1)
    if recurrence == "weekly":
        return day + timedelta(days=7)
    if recurrence == "monthly":
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        last = month_calendar.monthrange(year, month)[1]
        return date(year, month, min(day.day, last))
    raise ValueError(f"unknown recurrence {recurrence!r}")
