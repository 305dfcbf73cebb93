"""The campaigns list: counts by status as filter links, search by name, sort, paging,
each row's audience, agent, status and progress, and the empty state."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.console.conftest import sign_in
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec, launch, ny_contacts, status_of
from tests.support.stack import wait_for


def _seed(site) -> None:
    client = site.client()
    audience = client.create_audience("Spring renewals", ny_contacts([["answered"]] * 3))
    number = client.add_phone_number("+12125550199")
    ids = [number.id]
    for name in ("Alpha renewals", "Beta win-back"):
        client.create_campaign(campaign_spec(audience.id, name=name, phone_number_ids=ids))
    later = (client.now() + timedelta(days=2)).isoformat()
    client.create_campaign(campaign_spec(audience.id, name="Gamma launch", scheduled_at=later,
                                         agent_id="agent-gamma", phone_number_ids=ids))
    stopped = client.create_campaign(campaign_spec(audience.id, name="Delta stopped",
                                                   phone_number_ids=ids))
    client.start(stopped.id)
    client.stop(stopped.id)


def test_an_empty_organisation_is_offered_its_first_campaign(site, open_page):
    page = open_page(site)
    sign_in(page, site.key)
    expect(page.get_by_text("No campaigns yet.")).to_be_visible()
    expect(page.get_by_role("link", name="New campaign")).to_have_attribute(
        "href", "/console/campaigns/new")


def test_counts_filter_search_and_sort(site, open_page):
    _seed(site)
    page = open_page(site)
    sign_in(page, site.key)
    filters = page.get_by_role("navigation", name="Filter by status")
    for label in ("All 4", "Draft 2", "Scheduled 1", "Stopped 1", "Running 0"):
        expect(filters.get_by_role("link", name=label, exact=True)).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows).to_have_count(5)  # the header and four campaigns
    gamma = page.get_by_role("row").filter(has_text="Gamma launch")
    expect(gamma).to_contain_text("Spring renewals")
    expect(gamma).to_contain_text("agent-gamma")
    expect(gamma).to_contain_text("scheduled")
    expect(gamma).to_contain_text("called 0 of 3")
    expect(gamma.get_by_role("progressbar")).to_be_visible()
    expect(gamma.get_by_role("link", name="Gamma launch")).to_have_attribute(
        "href", re.compile(r"^/console/campaigns/[0-9a-f-]{36}$"))
    screenshots(page, "campaigns")

    filters.get_by_role("link", name="Draft 2").click()
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(page.get_by_role("row")).to_have_count(3)
    expect(page.get_by_role("link", name="Gamma launch")).to_have_count(0)

    # Typing searches (htmx, after a pause) within the filter.
    page.get_by_label("Search by name").fill("beta")
    expect(page.get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("link", name="Beta win-back")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=beta"))

    page.goto("/console/campaigns?q=zzz")
    expect(page.get_by_text("No campaigns match the search “zzz”.")).to_be_visible()

    page.goto("/console/campaigns")
    names = page.locator("tbody tr td:first-child")
    expect(names).to_have_text(["Delta stopped", "Gamma launch", "Beta win-back",
                                "Alpha renewals"])
    page.get_by_label("Sort").select_option(label="Oldest first")
    expect(names).to_have_text(["Alpha renewals", "Beta win-back", "Gamma launch",
                                "Delta stopped"])


def test_a_long_list_is_paged(site, open_page):
    client = site.client()
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    for n in range(23):
        client.create_campaign(campaign_spec(audience.id, name=f"Campaign {n:02d}"))
    page = open_page(site)
    sign_in(page, site.key)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(21)
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(4)
    expect(page.get_by_role("link", name="Campaign 00")).to_be_visible()


def test_a_row_shows_the_contacts_called_as_the_campaign_view_counts_them(start_site,
                                                                          open_page):
    site = start_site(dialing=True, time_scale=600)
    client = site.client()
    number = client.add_phone_number("+12125550199")
    campaign_id = launch(client, ny_contacts([["answered"], ["busy", "answered"],
                                              ["answered"]], ring_s=1, talk_s=5),
                         name="Dialed", phone_number_ids=[number.id])
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=60,
             what="the campaign completed")
    called = client.get(campaign_id).metrics.contacts_called
    assert called == client.campaign_facts([campaign_id])[campaign_id].contacts_called == 3

    page = open_page(site)
    sign_in(page, site.key)
    row = page.get_by_role("row").filter(has_text="Dialed")
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text("called 3 of 3")
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "3")
    expect(page.get_by_role("link", name="Completed 1", exact=True)).to_be_visible()


def test_a_page_past_the_end_offers_the_first_and_a_nul_is_no_error(site, open_page):
    _seed(site)
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/campaigns?q=renewals&page=9")
    expect(page.get_by_text("Nothing on this page.")).to_be_visible()
    page.get_by_role("link", name="Go to the first page").click()
    expect(page.get_by_role("link", name="Alpha renewals")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=renewals"))

    response = page.goto("/console/campaigns?q=%00")
    assert response is not None and response.status == 200
    expect(page.get_by_role("link", name="Alpha renewals")).to_be_visible()

    # Results replaced as one types are announced by their count.
    page.get_by_label("Search by name").fill("renewals")
    expect(page.get_by_role("status")).to_have_text("1 campaign matches.")
    page.get_by_label("Search by name").fill("zzz")
    expect(page.get_by_role("status")).to_have_text("No campaign matches.")
