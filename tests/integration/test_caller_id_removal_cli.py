"""``dialer phone remove ID``: by id or a unique prefix; refused while a live campaign
lists the number, one line naming it; gone afterwards."""

from __future__ import annotations

import pytest

from tests.support.cli import run
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


@pytest.fixture
def env(cli_environment):
    return cli_environment("2026-03-02T10:00:00-05:00")


def test_phone_remove(env):
    number = env.add_phone_number("+14155550134")
    audience = env.create_audience("people", ny_contacts([["answered"]]))
    campaign = env.create_campaign(campaign_spec(audience.id, phone_number_ids=[number.id]))
    env.start(campaign.id)

    code, _, err = run("phone", "remove", number.id[:8])
    assert code != 0 and campaign.id in err and "Traceback" not in err
    assert [n.id for n in env.phone_numbers()] == [number.id]

    env.stop(campaign.id)
    code, out, _ = run("phone", "remove", number.id[:8])
    assert code == 0 and f"phone number {number.id}: removed" in out
    assert env.phone_numbers() == []
    code, _, err = run("phone", "remove", number.id)
    assert code != 0 and "not found" in err
