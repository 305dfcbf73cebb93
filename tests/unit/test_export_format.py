"""CSV cells of the exports: safe against formula injection, phone numbers kept."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dialer.export_format import csv_text, safe_cell

FORMULA_STARTS = "=+-@\t\r"


def test_formulas_are_quoted_and_phone_numbers_are_not() -> None:
    assert safe_cell("=1+2") == "'=1+2"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("+1 (415) 555") == "'+1 (415) 555"
    assert safe_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("+14155550123") == "+14155550123"
    assert safe_cell("+442071838750") == "+442071838750"
    assert safe_cell("+0123") == "'+0123"  # not E.164: no country code starts with 0
    assert safe_cell("+1234567890123456") == "'+1234567890123456"  # 16 digits
    assert safe_cell("Ann = Bob") == "Ann = Bob"


def test_values_are_written_as_data() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true" and safe_cell(False) == "false"
    assert safe_cell(Decimal("0.012300")) == "0.0123"
    assert safe_cell(Decimal("12.000000")) == "12"
    assert safe_cell(30.5) == "30.5" and safe_cell(3) == "3"
    assert safe_cell(datetime(2026, 3, 2, 14, tzinfo=UTC)) == "2026-03-02T14:00:00+00:00"


@given(st.text())
def test_no_text_cell_reads_back_as_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert cell == text or cell == "'" + text
    if cell.startswith(tuple(FORMULA_STARTS)):
        assert cell[0] == "+" and cell[1:].isdigit()


@given(st.lists(st.lists(st.one_of(st.none(), st.text(), st.integers(min_value=0)),
                         min_size=1, max_size=5), max_size=5))
def test_csv_text_reads_back_row_by_row(rows: list[list[object]]) -> None:
    back = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    assert back == [[safe_cell(v) for v in row] for row in rows]
