"""How many campaigns each status holds, for the console's filter links: one GROUP BY,
the organisation's live campaigns only, every status named (zero included)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.statuses import CAMPAIGN_STATUSES
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def test_counts_by_status_are_the_organisations_live_campaigns(two_orgs):
    default, acme = two_orgs
    audience = default.create_audience("a", ny_contacts([["answered"]] * 2))
    assert default.campaign_status_counts() == dict.fromkeys(CAMPAIGN_STATUSES, 0)

    for name in ("one", "two"):
        default.create_campaign(campaign_spec(audience.id, name=name))
    later = (default.now() + timedelta(days=2)).isoformat()
    default.create_campaign(campaign_spec(audience.id, name="later", scheduled_at=later))
    stopped = default.create_campaign(campaign_spec(audience.id, name="stopped"))
    default.start(stopped.id)
    default.stop(stopped.id)
    gone = default.create_campaign(campaign_spec(audience.id, name="deleted"))
    default.delete(gone.id)
    theirs = acme.create_audience("b", ny_contacts([["answered"]]))
    acme.create_campaign(campaign_spec(theirs.id, name="theirs"))

    counts = default.campaign_status_counts()
    assert list(counts) == list(CAMPAIGN_STATUSES)
    assert {k: v for k, v in counts.items() if v} == {"draft": 2, "scheduled": 1,
                                                      "stopped": 1}
    assert acme.campaign_status_counts()["draft"] == 1


def test_campaign_facts_count_no_contacts_called_before_any_call(two_orgs):
    default, _ = two_orgs
    audience = default.create_audience("a", ny_contacts([["answered"]] * 3))
    campaign = default.create_campaign(campaign_spec(audience.id))
    facts = default.campaign_facts([campaign.id])[campaign.id]
    assert (facts.participants, facts.contacts_called) == (3, 0)
