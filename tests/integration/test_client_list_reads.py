"""The client's reads behind list screens and the HTTP stream: an audience and its
members, campaign and DNC pages, campaign facts, a campaign's activity, health.

Each is the organisation's only: another organisation's audience or campaign is
NotFound exactly as an unknown id, and its rows are never counted or listed."""

from __future__ import annotations

import pytest

from dialer.errors import NotFound, ValidationError
from dialer.views import ActivityCursor
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _same_as_unknown(call, own_id: str) -> None:
    with pytest.raises(NotFound) as foreign:
        call(own_id)
    with pytest.raises(NotFound) as unknown:
        call(UNKNOWN)
    assert str(foreign.value).replace(own_id, "ID") == str(unknown.value).replace(UNKNOWN, "ID")


def test_an_audience_its_members_paged_searched_and_removed(two_orgs):
    default, _ = two_orgs
    odd_one = {"phone": "+12125559999", "name": "Zoë 100%", "attributes": {"plan": "silver"}}
    audience = default.create_audience(
        "renewals", [*ny_contacts([["answered"]] * 7, plan="gold"), odd_one])

    summary = default.audience(audience.id)
    assert (summary.id, summary.name, summary.count) == (audience.id, "renewals", 8)

    first = default.audience_members(audience.id, page=1, limit=3)
    last = default.audience_members(audience.id, page=3, limit=3)
    assert first.total == last.total == 8
    assert [m.name for m in first.members] == ["c0", "c1", "c2"]
    assert [m.name for m in last.members] == ["c6", "Zoë 100%"]
    assert last.members[1].attributes == {"plan": "silver"}
    with pytest.raises(ValidationError) as bad:
        default.audience_members(audience.id, page=0, limit=0)
    assert set(bad.value.fields) == {"page", "limit"}

    # "contains", case-insensitive, over the phone, the name and the attribute values;
    # a % in the term is a literal character, not a wildcard.
    assert [m.phone for m in default.search_audience_members(audience.id, query="SILVER")] \
        == ["+12125559999"]
    assert [m.name for m in default.search_audience_members(audience.id, query="100%")] \
        == ["Zoë 100%"]
    assert len(default.search_audience_members(audience.id, query="%")) == 1
    assert [m.name for m in default.search_audience_members(
        audience.id, fields={"plan": "gold", "name": "c4"})] == ["c4"]
    assert len(default.search_audience_members(audience.id, query="555", limit=2)) == 2

    ids = [m.id for m in first.members]
    assert default.remove_audience_members(audience.id, [str(ids[0]), ids[1], "x"]) == 2
    assert default.audience(audience.id).count == 6
    assert default.remove_audience_members(audience.id, ["not-an-id"]) == 0

    default.delete_audience(audience.id)
    with pytest.raises(NotFound):
        default.audience(audience.id)


def test_members_are_removed_from_an_audience_a_live_campaign_uses_but_it_is_not_deleted(
        two_orgs):
    default, _ = two_orgs
    audience = default.create_audience("used", ny_contacts([["answered"]] * 2))
    campaign = default.create_campaign(campaign_spec(audience.id))
    member = default.audience_members(audience.id).members[0]

    with pytest.raises(ValidationError) as refused:
        default.delete_audience(audience.id)
    assert "campaign with this audience" in str(refused.value)
    # Removing members is allowed while campaigns use the audience (issue 14).
    assert default.remove_audience_members(audience.id, [member.id]) == 1
    assert default.audience(audience.id).count == 1
    assert [c.id for c in default.audience_campaigns()[audience.id]] == [campaign.id]

    # A deleted campaign no longer holds the audience.
    default.delete(campaign.id)
    assert default.audience_campaigns() == {}
    assert default.remove_audience_members(audience.id, [member.id]) == 0  # already out
    default.delete_audience(audience.id)


def test_another_organisations_audience_is_not_found(two_orgs):
    default, acme = two_orgs
    audience = default.create_audience("mine", ny_contacts([["answered"]] * 2))
    member = default.audience_members(audience.id).members[0]

    for call in (acme.audience, acme.audience_members, acme.delete_audience,
                 lambda id: acme.search_audience_members(id, query="c"),
                 lambda id: acme.remove_audience_members(id, [member.id])):
        _same_as_unknown(call, audience.id)
    # Nothing of it changed, and a malformed id is simply unknown.
    assert default.audience(audience.id).count == 2
    with pytest.raises(NotFound):
        acme.audience("not-a-uuid")


def test_campaign_pages_count_and_sort_the_organisations_campaigns_only(two_orgs):
    default, acme = two_orgs
    audience = default.create_audience("a", ny_contacts([["answered"]] * 3))
    made = [default.create_campaign({**campaign_spec(audience.id), "name": name})
            for name in ("Spring sale", "Summer sale", "Renewals")]
    theirs = acme.create_audience("theirs", ny_contacts([["answered"]]))
    acme.create_campaign({**campaign_spec(theirs.id), "name": "Spring sale"})

    page = default.campaign_page(page=1, limit=2)
    assert (page.matching, page.total) == (3, 3)
    assert [c.id for c in page.campaigns] == [made[2].id, made[1].id]  # newest first
    oldest = default.campaign_page(page=1, limit=1, sort="-created_at")
    assert [c.id for c in oldest.campaigns] == [made[0].id]
    sales = default.campaign_page(search="SALE")
    assert (sales.matching, sales.total) == (2, 3)
    assert default.campaign_page(status="running").matching == 0
    with pytest.raises(ValidationError):
        default.campaign_page(sort="name")

    facts = default.campaign_facts([made[0].id])[made[0].id]
    assert (facts.participants, facts.retry_attempts, facts.cancelled) == (3, 0, 0)
    assert facts.audience_name == "a"
    # Another organisation's campaign counts nothing (and says nothing of it).
    assert acme.campaign_facts([made[0].id])[made[0].id].audience_name is None
    assert acme.campaign_facts([made[0].id])[made[0].id].participants == 0


def test_dnc_entries_page_per_organisation(two_orgs):
    default, acme = two_orgs
    default.add_dnc(["+12125550111", "+12125550112", "+12125550123"])
    acme.add_dnc(["+12125550199"])

    page = default.dnc_entries(page=1, limit=2, sort="-phone")
    assert page.total == 3
    assert [e.phone for e in page.entries] == ["+12125550111", "+12125550112"]
    assert [e.phone for e in default.dnc_entries(search="0123").entries] == ["+12125550123"]
    assert [e.phone for e in acme.dnc_entries().entries] == ["+12125550199"]


def test_campaign_activity_after_a_cursor(two_orgs):
    default, acme = two_orgs
    audience = default.create_audience("a", ny_contacts([["answered"]]))
    campaign = default.create_campaign(campaign_spec(audience.id))

    everything = default.campaign_activity(campaign.id)
    assert everything.status == "draft"
    assert [e.action for e in everything.events] == ["created"]
    assert everything.skips == everything.placed == everything.ended == []
    after = ActivityCursor(events_after=everything.events[-1].id)
    assert default.campaign_activity(campaign.id, after=after).events == []

    _same_as_unknown(acme.campaign_activity, campaign.id)

    # A deleted campaign answers with no status, its rows still readable.
    default.delete(campaign.id)
    deleted = default.campaign_activity(campaign.id, after=after)
    assert deleted.status is None
    assert [e.action for e in deleted.events] == ["deleted"]


def test_health_answers_for_both_services(two_orgs):
    default, _ = two_orgs
    health = default.health()
    assert (health.postgres, health.redis) == (True, True)


def test_member_ids_that_are_no_contact_ids_are_ignored(two_orgs):
    default, _ = two_orgs
    audience = default.create_audience("a", ny_contacts([["answered"]]))
    # "²" is a digit to str.isdigit, and twenty digits overflow a bigint: neither is
    # a contact id, and neither may reach PostgreSQL.
    assert default.remove_audience_members(audience.id, ["²", "9" * 20, "x"]) == 0
    assert default.audience(audience.id).count == 1
