"""The rows of an uploaded CSV the import rejected, as a CSV a person can fix and upload
again: its header and each rejected row as it was, after the row's number and error.

Rows are numbered as the import numbers them (``service/csv_import.py``): as a
spreadsheet shows them, the header row 1, one record of ``csv.reader`` a row (a quoted
cell may span lines)."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable
from pathlib import Path

from dialer.views import RejectedContact

LEAD_COLUMNS = ["row", "error"]


def rejected_rows_csv(path: Path, rejected: Iterable[RejectedContact]) -> str:
    """The CSV text: ``row,error,<the upload's columns>``; a row the file does not hold
    (it cannot, but a report is not trusted to match) is listed with no cells."""
    errors: dict[int, list[str]] = {}
    for r in rejected:
        errors.setdefault(r.index, []).append(r.error)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    found: dict[int, list[str]] = {}
    header: list[str] = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        try:
            for number, record in enumerate(csv.reader(handle), start=1):
                if number == 1:
                    header = record
                elif number in errors:
                    found[number] = record
        except csv.Error:
            pass  # the import reported the file unreadable from here on
    writer.writerow(LEAD_COLUMNS + header)
    for number in sorted(errors):
        writer.writerow([number, "; ".join(errors[number]), *found.get(number, [])])
    return out.getvalue()


def data_uri(text: str) -> str:
    """``text`` as a ``data:`` URI a link can download (``<a download>``)."""
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode()).decode()
