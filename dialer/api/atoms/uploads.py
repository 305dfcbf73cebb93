"""Atoms' CSV and member lists as the CSV our import reads (pure text in, text out).

Atoms names the phone column (``phoneNumberColumnName``) and optionally a
name column (``identifierColumnName``); our import reads ``phone`` and
``name``. Only the header changes, so the import's own checks (E.164, time
zones, duplicates) run on every row unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from dialer.errors import ValidationError

PHONE_KEY = "phoneNumber"  # the phone's key in Atoms' member data, as we show it
_OURS = ("phone", "name", "timezone")


def csv_for_import(text: str, *, phone_column: str, identifier_column: str | None
                   ) -> tuple[str, int]:
    """The CSV with our header, and how many rows it holds (blank lines not counted).

    The header must be the first line (a column name with a line break in it is not
    read)."""
    first, newline, rest = text.partition("\n")
    try:
        header = next(csv.reader([first.rstrip("\r")]), [])
    except csv.Error as exc:
        raise ValidationError([("file", f"line 1: {exc}")]) from None
    names = [h.strip() for h in header]
    if phone_column not in names:
        raise ValidationError([("phoneNumberColumnName",
                                f"the CSV has no column named {phone_column!r}")])
    if identifier_column is not None and identifier_column not in names:
        raise ValidationError([("identifierColumnName",
                                f"the CSV has no column named {identifier_column!r}")])
    renamed = {phone_column: "phone"}
    if identifier_column is not None and identifier_column != phone_column:
        renamed[identifier_column] = "name"
    new = [renamed.get(n, n) for n in names]
    clash = [ours for ours in ("phone", "name") if new.count(ours) > 1]
    if clash:
        raise ValidationError([("file", f"another column is named {clash[0]!r}, which would "
                                        f"be read as the {clash[0]}: rename it")])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(new)
    reader = csv.reader(io.StringIO(rest, newline=""))
    try:
        rows = sum(1 for row in reader if "".join(row).strip())
    except csv.Error as exc:
        raise ValidationError([("file", f"line {reader.line_num + 1}: {exc}")]) from None
    return out.getvalue() + rest if newline else out.getvalue(), rows


def members_csv(members: list[dict[str, Any]]) -> str:
    """Atoms members (objects keyed by column) as one CSV: ``phoneNumber`` becomes our
    ``phone``, ``name`` and ``timezone`` stay ours, every other key an attribute."""
    errors = []
    for index, member in enumerate(members):
        if not isinstance(member, dict) or member.get(PHONE_KEY) in (None, ""):
            errors.append((f"members[{index}]", f"Each member must have a {PHONE_KEY} field"))
        elif "phone" in member:
            errors.append((f"members[{index}].phone", f"the phone goes under {PHONE_KEY}"))
    if errors:
        raise ValidationError(errors)
    extra: dict[str, None] = {}
    for member in members:
        extra.update((k, None) for k in member if k not in (PHONE_KEY, *_OURS))
    columns = [*_OURS, *extra]
    out = io.StringIO()
    writer = csv.writer(out)  # "\r\n": a lone \r in a cell is then quoted too
    writer.writerow(columns)
    for member in members:
        cells = {**member, "phone": member[PHONE_KEY]}
        writer.writerow([_cell(cells.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
