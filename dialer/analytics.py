"""Pure arithmetic of the analytics views (docs/contract.md, "Analytics"): shares of a
whole, and the week's grid of day x hour. No SQL: the store hands over counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

# Day of week as the spec names days (schedule.allowed_days): 0 is Monday, as
# ``datetime.weekday()``; PostgreSQL's ISO day of week minus one.
DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_PER_DAY: Final = 24
PCT_DIGITS: Final = 1
RATE_DIGITS: Final = 4


def percent(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole`` (0 to 100, one decimal); 0.0 when ``whole`` is
    0, so an empty campaign shows 0% rather than failing (its counts say it is empty)."""
    if whole <= 0:
        return 0.0
    return round(100.0 * part / whole, PCT_DIGITS)


def rate(part: int, whole: int) -> float:
    """``part`` as a fraction of ``whole`` (0 to 1, four decimals); 0.0 when ``whole`` is 0
    (the count beside it, 0, tells "no calls" from "no answers")."""
    if whole <= 0:
        return 0.0
    return round(part / whole, RATE_DIGITS)


def week_grid(counts: Mapping[tuple[int, int], tuple[int, int]]
              ) -> Iterable[tuple[int, int, int, int]]:
    """Every (dow, hour, placed, answered) of the week, Monday 00h first, with zeros
    where ``counts`` (keyed by (dow, hour)) has nothing, so a drawing needs no gaps
    filled."""
    for dow in range(len(DAY_NAMES)):
        for hour in range(HOURS_PER_DAY):
            placed, answered = counts.get((dow, hour), (0, 0))
            yield dow, hour, placed, answered
