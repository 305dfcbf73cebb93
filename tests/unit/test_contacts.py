"""parse_contact (inline contacts): a bad contact is a ValueError naming its field,
never an error from the zone database or, later, from PostgreSQL."""

from __future__ import annotations

import pytest

from dialer.service.steps.audience_intake import parse_contact
from dialer.spec import is_iana_zone


@pytest.mark.parametrize("name", ["US", "America", "Etc", "x" * 300, "America/", "../etc",
                                  "zone.tab", "Mars/Olympus", "a\x00b", ""])
def test_names_that_are_not_zones(name):
    assert not is_iana_zone(name)


@pytest.mark.parametrize("name", ["UTC", "America/New_York", "US/Pacific", "Etc/GMT+5"])
def test_zones(name):
    assert is_iana_zone(name)


def parse(**fields) -> dict:
    return parse_contact({"phone": "+14155550124", **fields}, default_region=None)


@pytest.mark.parametrize("zone", ["US", "America", "Etc", "x" * 300])
def test_a_zone_folder_or_overlong_name_is_refused_by_field(zone):
    with pytest.raises(ValueError, match=r"^timezone: unknown IANA timezone"):
        parse(timezone=zone)


def test_a_name_longer_than_its_column_is_refused():
    assert parse(name="n" * 200)["name"] == "n" * 200
    with pytest.raises(ValueError, match=r"^name: at most 200 characters$"):
        parse(name="n" * 201)


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "a\x00b"}, "name"),
    ({"timezone": "UTC\x00"}, "timezone"),
    ({"attributes": {"plan": "gold\x00"}}, "attributes"),
    ({"attributes": {"pl\x00an": "gold"}}, "attributes"),
    ({"attributes": {"tags": ["a", {"b": "c\x00"}]}}, "attributes"),
])
def test_a_nul_character_is_refused_by_field(fields, field):
    # PostgreSQL stores NUL in neither text nor jsonb.
    with pytest.raises(ValueError, match=rf"^{field}: contains a NUL character$"):
        parse(**fields)


def test_attributes_without_nul_are_kept():
    attributes = {"plan": "gold", "tags": ["a", {"b": 1}], "n": None}
    assert parse(attributes=attributes)["attributes"] == attributes
