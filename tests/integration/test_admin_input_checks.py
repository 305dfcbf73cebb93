"""Input the service refuses whichever surface it came through (the console's forms,
the client, the CLI): a caller ID's calls per second within the API's bounds and finite,
no NUL in its provider; no NUL in a campaign search (PostgreSQL text holds none)."""

from __future__ import annotations

import math

import pytest

from dialer.errors import ValidationError
from dialer.text import CONTAINS_NUL


@pytest.mark.parametrize("cps", [math.nan, math.inf, -math.inf, 0, -1, 1000.5, 5000])
def test_a_caller_ids_calls_per_second_out_of_bounds_is_refused_on_the_field(two_orgs, cps):
    default, _ = two_orgs
    with pytest.raises(ValidationError) as refused:
        default.add_phone_number("+12125550100", provider="simulated", cps=cps)
    assert [field for field, _ in refused.value.errors] == ["cps"]
    assert default.phone_numbers() == []


def test_the_calls_per_second_bounds_are_inclusive_of_1000(two_orgs):
    default, _ = two_orgs
    assert default.add_phone_number("+12125550100", provider="simulated", cps=1000).cps == 1000


def test_a_provider_with_a_nul_is_refused_on_the_field(two_orgs):
    default, _ = two_orgs
    with pytest.raises(ValidationError) as refused:
        default.add_phone_number("+12125550100", provider="sim\x00ulated", cps=None)
    assert refused.value.errors == [("provider", CONTAINS_NUL)]


def test_a_campaign_search_with_a_nul_is_refused_not_a_database_error(two_orgs):
    default, _ = two_orgs
    with pytest.raises(ValidationError) as refused:
        default.campaign_page(search="sale\x00")
    assert refused.value.errors == [("search", CONTAINS_NUL)]
