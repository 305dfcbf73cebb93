"""The console's download of rejected CSV rows: each rejected row as uploaded, after its
row number and error, numbered as the import numbers rows (header = row 1)."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.api.console.rejected_rows import data_uri, rejected_rows_csv, rejected_rows_download
from dialer.views import RejectedContact


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "upload.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rejected_rows_keep_their_cells_and_errors(tmp_path):
    path = _write(tmp_path, '\ufeffphone,name\n+12125550100,Ann\nnope,"Bob\nSmith"\n'
                            '+12125550100,Ann again\n')
    text = rejected_rows_csv(path, [RejectedContact(index=4, error="duplicate phone"),
                                    RejectedContact(index=3, error="phone: not a number")])
    assert list(csv.reader(io.StringIO(text))) == [
        ["row", "error", "phone", "name"],
        ["3", "phone: not a number", "nope", "Bob\nSmith"],
        ["4", "duplicate phone", "+12125550100", "Ann again"]]


def test_nothing_rejected_is_a_header_only(tmp_path):
    path = _write(tmp_path, "phone\n+12125550100\n")
    assert rejected_rows_csv(path, []) == "row,error,phone\r\n"


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                       blacklist_characters="\x00\r"), max_size=8)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=8),
       data=st.data())
def test_any_rejected_row_comes_back_as_written(tmp_path_factory, rows, data):
    out = io.StringIO()
    csv.writer(out).writerows([["phone", "name"], *rows])
    path = _write(tmp_path_factory.mktemp("csv"), out.getvalue())
    picked = data.draw(st.sets(st.integers(min_value=2, max_value=len(rows) + 1)))
    text = rejected_rows_csv(path, [RejectedContact(index=n, error="bad") for n in picked])
    back = list(csv.reader(io.StringIO(text)))
    assert back[0] == ["row", "error", "phone", "name"]
    # csv.reader reads an empty record for a row of two empty cells written as ','.
    assert [(int(r[0]), r[2:]) for r in back[1:]] == [(n, rows[n - 2]) for n in sorted(picked)]


def test_the_download_link_carries_the_text():
    uri = data_uri("row,error\r\n2,é\r\n")
    assert uri.startswith("data:text/csv;charset=utf-8;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == "row,error\r\n2,é\r\n"


def test_a_large_download_is_cut_at_whole_rows_within_its_cap(tmp_path):
    # A data: link past ~2 MB does not open in Chromium: the link carries at most the cap.
    rows = "".join(f"not-a-phone-{n},{'x' * 200}\n" for n in range(2, 12_000))
    path = _write(tmp_path, "phone,note\n" + rows)
    rejected = [RejectedContact(index=n, error="not a phone number") for n in range(2, 12_000)]
    text, listed = rejected_rows_download(path, rejected, max_bytes=100_000)
    assert len(text.encode()) <= 100_000
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["row", "error", "phone", "note"]
    assert len(parsed) - 1 == listed < len(rejected)
    assert [r[0] for r in parsed[1:]] == [str(n) for n in range(2, 2 + listed)]
    assert parsed[-1][2] == f"not-a-phone-{1 + listed}"

    whole, all_listed = rejected_rows_download(path, rejected[:5], max_bytes=100_000)
    assert (whole, all_listed) == (rejected_rows_csv(path, rejected[:5]), 5)
