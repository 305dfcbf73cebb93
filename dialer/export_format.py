"""The export files' columns and cells (docs/contract.md, "Exports"): pure, no I/O.

CSV cells are written with the csv module (quoting, embedded newlines) and made safe
against formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``,
``-``, ``@`` (or a tab / carriage return, which some readers strip first) as a
formula, so such a text cell gets a leading ``'`` (OWASP's advice). Phone numbers
start with ``+``: a valid E.164 number (``+`` and 2 to 15 digits, no formula can be
spelled that way) is left as it is, so an export's numbers stay usable. Numbers we
format ourselves (durations, costs, counts) are never negative and not text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
E164 = re.compile(r"\+[1-9][0-9]{1,14}")

CALL_COLUMNS = (
    "call_id", "contact_id", "phone", "phone_index", "from_number", "status", "outcome",
    "goal_achieved", "detail", "provider_call_id", "attempt", "cycle", "execution_number",
    "queued_at", "placed_at", "ended_at", "duration_s", "cost", "recording_url",
    "transcript_url")

CONTACT_COLUMNS = (
    "contact_id", "phone", "name", "status", "last_outcome", "answered_phone", "attempts",
    "total_duration_s", "total_cost", "goal_achieved", "last_attempt_at")


def safe_cell(value: Any) -> str:
    """One CSV cell's text: empty for null, ISO-8601 for instants, ``true``/``false``
    for booleans, the exact digits of a decimal; text that a spreadsheet would run
    as a formula gets a leading ``'`` unless it is an E.164 phone number."""
    # Dispatch on the exact type first: an export calls this for every cell (20 per
    # call), and the common cells are text, null and numbers.
    kind = type(value)
    if kind is str:
        return _safe_text(value)
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return _safe_text(str(value))


def _safe_text(text: str) -> str:
    if text[:1] in _FORMULA_FIRST and E164.fullmatch(text) is None:
        return "'" + text
    return text


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (``\\r\\n`` line ends, as RFC 4180 and the csv module write)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
