"""Atoms CSVs and member lists as our CSV import reads them (dialer/api/atoms/uploads.py)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.api.atoms.uploads import csv_for_import, members_csv
from dialer.errors import ValidationError


def test_the_named_columns_become_ours_and_the_rows_are_untouched():
    text = "First,Mobile,plan\r\nAnn,+12125550101,gold\r\n\r\nBob,+12125550102,\r\n"
    out, rows = csv_for_import(text, phone_column="Mobile", identifier_column="First")
    assert out == "name,phone,plan\nAnn,+12125550101,gold\r\n\r\nBob,+12125550102,\r\n"
    assert rows == 2  # the blank line is no contact


@pytest.mark.parametrize(("text", "field"), [
    ("phone,name\n+12125550101,a\n", "phoneNumberColumnName"),  # no such column
    ("phoneNumber,phone\n+12125550101,x\n", "file"),  # another column would be the phone
    ("a\rb,phoneNumber\n", "file"),
])
def test_what_cannot_be_read_as_asked_is_400_by_field(text, field):
    with pytest.raises(ValidationError) as info:
        csv_for_import(text, phone_column="phoneNumber", identifier_column=None)
    assert info.value.fields == [field]


def test_an_identifier_column_that_is_not_there_is_named():
    with pytest.raises(ValidationError) as info:
        csv_for_import("phoneNumber\n1\n", phone_column="phoneNumber", identifier_column="Nm")
    assert info.value.fields == ["identifierColumnName"]


values = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none())


@given(st.lists(st.dictionaries(st.sampled_from(["name", "plan", "age", "timezone"]), values,
                                max_size=3), min_size=1, max_size=5))
def test_members_become_one_csv_row_each_with_the_phone_first(members):
    members = [{"phoneNumber": f"+1212555{i:04d}", **m} for i, m in enumerate(members)]
    rows = list(csv.DictReader(io.StringIO(members_csv(members), newline="")))
    assert [r["phone"] for r in rows] == [m["phoneNumber"] for m in members]
    for row, member in zip(rows, members, strict=True):
        for key, value in member.items():
            if key != "phoneNumber" and isinstance(value, str):
                assert row[key] == value


def test_a_member_without_the_phone_key_is_named():
    with pytest.raises(ValidationError) as info:
        members_csv([{"phoneNumber": "+12125550101"}, {"name": "x"}, {"phoneNumber": ""}])
    assert info.value.fields == ["members[1]", "members[2]"]
    assert "Each member must have a phoneNumber field" in str(info.value)
