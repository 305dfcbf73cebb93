"""parse_contact (inline contacts): a bad contact is a ValueError naming its field,
never an error from the zone database."""

from __future__ import annotations

import pytest

from dialer.service.contacts import parse_contact
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
