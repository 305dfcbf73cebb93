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
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and E164.fullmatch(text) is None:
        return "'" + text
    return text


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (``\\r\\n`` line ends, as RFC 4180 and the csv module write)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
