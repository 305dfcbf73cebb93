"""How the analytics, leads and call-log pages lay out what the client returns: pure
functions, no I/O, unit-tested (tests/unit/test_console_charts.py).

A chart in the console is a table (issue 15: charts must read as tables to a screen
reader): every number is the cell's text, and a class ``heat-0`` .. ``heat-9`` only
shades it. The shade is decided here, not in a template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from dialer.views import HeatmapView

HEAT_LEVELS = 10
DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
             "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}


def heat_bucket(value: float, peak: float) -> int:
    """The shade of ``value`` on a scale whose darkest is ``peak``: 0 for nothing (zero,
    negative, or no peak), else 1 .. 9 in nine equal bands, so any value above zero is
    visibly shaded and the peak is the darkest."""
    if value <= 0 or peak <= 0:
        return 0
    return 1 + min(HEAT_LEVELS - 2, math.floor(value / peak * (HEAT_LEVELS - 1)))


@dataclass(frozen=True)
class HeatCell:
    hour: int
    text: str
    heat: int


@dataclass(frozen=True)
class HeatRow:
    day: str
    cells: list[HeatCell]


def heat_rows(view: HeatmapView, measure: str) -> list[HeatRow]:
    """The week as 7 rows (Monday first) of 24 hour cells, for ``measure`` ``placed``
    (calls placed, shaded against the busiest hour) or ``answer_rate`` (shaded on the
    absolute 0 to 100% scale; an hour without calls reads "—", not 0%)."""
    peak = max((cell.placed for cell in view.cells), default=0)
    rows: dict[int, HeatRow] = {}
    for cell in sorted(view.cells, key=lambda c: (c.dow, c.hour)):
        if measure == "placed":
            item = HeatCell(cell.hour, str(cell.placed), heat_bucket(cell.placed, peak))
        elif cell.placed == 0:
            item = HeatCell(cell.hour, "—", 0)
        else:
            item = HeatCell(cell.hour, f"{cell.answer_rate * 100:.0f}%",
                            heat_bucket(cell.answer_rate, 1.0))
        rows.setdefault(cell.dow, HeatRow(DAY_NAMES.get(cell.day, cell.day), []))
        rows[cell.dow].cells.append(item)
    return [rows[dow] for dow in sorted(rows)]


def page_count(total: int, limit: int) -> int:
    """How many pages ``total`` rows fill at ``limit`` a page (at least one, empty)."""
    return max(1, math.ceil(max(total, 0) / max(limit, 1)))


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address a browser may follow, else None (a
    provider's ``javascript:`` or ``data:`` URL never becomes a link)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def duration(seconds: float | None) -> str:
    """A call's or a run's length as a person reads it: ``42 s``, ``3 min 05 s``,
    ``2 h 04 min``; "—" when unknown."""
    if seconds is None:
        return "—"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
