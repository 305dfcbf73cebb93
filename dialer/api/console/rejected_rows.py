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
    return rejected_rows_download(path, rejected, max_bytes=None)[0]


def rejected_rows_download(path: Path, rejected: Iterable[RejectedContact], *,
                           max_bytes: int | None) -> tuple[str, int]:
    """``rejected_rows_csv`` cut at whole rows to at most ``max_bytes`` of UTF-8 (None:
    all of it), and how many rejected rows it lists."""
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
    size, listed = len(out.getvalue().encode()), 0
    for number in sorted(errors):
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow(
            [number, "; ".join(errors[number]), *found.get(number, [])])
        size += len(line.getvalue().encode())
        if max_bytes is not None and size > max_bytes:
            break
        out.write(line.getvalue())
        listed += 1
    return out.getvalue(), listed


def data_uri(text: str) -> str:
    """``text`` as a ``data:`` URI a link can download (``<a download>``)."""
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode()).decode()
