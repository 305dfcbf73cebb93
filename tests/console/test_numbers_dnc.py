"""Caller IDs (added, searched, disabled and enabled) and the do-not-call list (numbers
added one a line, the invalid ones named, searched, removed after confirmation)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.console.conftest import sign_in
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec


def test_caller_ids_are_added_searched_disabled_and_enabled(site, open_page):
    client = site.client()
    client.add_phone_number("+12125550101")
    client.add_phone_number("+13105550102", provider="twilio", cps=2)
    page = open_page(site)
    sign_in(page, site.key)
    page.get_by_role("link", name="Caller IDs").click()
    expect(page.get_by_role("heading", name="Caller IDs", level=1)).to_be_visible()
    expect(page.get_by_label("Provider")).to_have_value("simulated")

    page.get_by_label("Number", exact=True).fill("not a number")
    page.get_by_role("button", name="Add caller ID").click()
    number = page.get_by_label("Number", exact=True)
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#number-error")).to_be_visible()
    expect(number).to_have_value("not a number")

    number.fill("+1 (646) 555-0103")
    page.get_by_role("button", name="Add caller ID").click()
    expect(page.get_by_role("status")).to_have_text("Added +16465550103.")
    rows = page.get_by_role("table", name="Caller IDs").get_by_role("row")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="+16465550103")).to_contain_text("simulated")
    expect(rows.filter(has_text="+13105550102")).to_contain_text("twilio")

    page.get_by_label("Number", exact=True).fill("+16465550103")
    page.get_by_role("button", name="Add caller ID").click()
    expect(page.get_by_text("+16465550103 is already registered")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable +12125550101").click()
    expect(page.get_by_role("status")).to_contain_text("+12125550101 is disabled")
    expect(page.get_by_role("row").filter(has_text="+12125550101")).to_contain_text("disabled")
    assert [n.is_active for n in client.phone_numbers() if n.number == "+12125550101"] == [False]
    screenshots(page, "numbers")

    page.get_by_role("button", name="Enable +12125550101").click()
    expect(page.get_by_role("status")).to_contain_text("+12125550101 is enabled")
    expect(page.get_by_role("button", name="Disable +12125550101")).to_be_visible()

    page.get_by_label("Search numbers").fill("310 555")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table", name="Caller IDs matching “310 555”")
           .get_by_role("row")).to_have_count(2)
    page.get_by_label("Search numbers").fill("999")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No caller ID matches “999”.")).to_be_visible()


def test_do_not_call_numbers_are_added_searched_and_removed(site, open_page):
    site.client().add_dnc([f"+1212555{n:04d}" for n in range(3)])
    page = open_page(site)
    sign_in(page, site.key)
    page.get_by_role("link", name="Do not call").click()
    expect(page.get_by_role("table", name="3 numbers")).to_be_visible()

    box = page.get_by_label("Numbers to add, one per line")
    box.fill("+13105550100\nbanana\n\n+12125550000\n12")
    page.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_role("alert")).to_contain_text("“banana”")
    expect(page.get_by_role("alert")).to_contain_text("“12”")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was added.")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("table", name="3 numbers")).to_be_visible()

    box.fill("+13105550100\n+1 646 555 0101\n+12125550000")
    page.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_role("status")).to_have_text("Added 2 numbers (1 already listed).")
    expect(page.get_by_role("table", name="5 numbers")).to_be_visible()
    screenshots(page, "dnc")

    page.get_by_label("Search numbers").fill("646")
    page.get_by_role("button", name="Search").click()
    table = page.get_by_role("table", name="1 number matching “646”")
    expect(table).to_contain_text("+16465550101")

    page.goto("/console/dnc")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Remove +12125550001").click()
    expect(page.get_by_role("table", name="5 numbers")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove +12125550001").click()
    expect(page.get_by_role("status")).to_have_text(
        "Removed +12125550001: campaigns may call it again.")
    expect(page.get_by_role("table", name="4 numbers")).to_be_visible()
    assert "+12125550001" not in site.client().dnc()


def test_out_of_bounds_rates_and_spoofed_notices_are_refused(site, open_page):
    client = site.client()
    client.add_phone_number("+12125550101")
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/numbers")
    rate = page.get_by_label("Calls per second (optional)")
    for typed in ("nan", "inf", "5000"):
        page.get_by_label("Number", exact=True).fill("+16465550103")
        rate.fill(typed)
        page.get_by_role("button", name="Add caller ID").click()
        expect(rate).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#cps-error")).to_contain_text("at most 1000")
    assert [n.number for n in client.phone_numbers()] == ["+12125550101"]

    # A notice is shown only for what it can be: a listed number, an E.164 number.
    page.goto("/console/numbers?added=Call+%2B19005550100")
    expect(page.get_by_role("heading", name="Caller IDs", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)
    page.goto("/console/numbers?added=%2B12125550101")
    expect(page.get_by_role("status")).to_have_text("Added +12125550101.")
    page.goto("/console/dnc?removed=Support+line+%2B19005550100&count=1")
    expect(page.get_by_role("heading", name="Do not call", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)


def test_removing_a_number_someone_else_removed_says_it_was_not_listed(site, open_page):
    client = site.client()
    client.add_dnc(["+12125550177"])
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/dnc")
    client.remove_dnc(["+12125550177"])
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove +12125550177").click()
    expect(page.get_by_role("status")).to_have_text(
        "+12125550177 was not on the list: nothing was removed.")


def test_a_failed_htmx_action_is_said_on_the_page(site, open_page):
    client = site.client()
    client.add_phone_number("+12125550101")
    client.add_dnc(["+12125550177"])
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/numbers")
    # The session's CSRF token no longer matches (as after signing in elsewhere).
    page.locator("body").evaluate(
        "b => b.setAttribute('hx-headers', JSON.stringify({'X-CSRF-Token': 'stale'}))")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable +12125550101").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"That did not work: .+\. Reload the page and try again\."))
    assert [n.is_active for n in client.phone_numbers()] == [True]

    page.goto("/console/dnc")
    page.route("**/console/dnc/remove", lambda route: route.abort())
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove +12125550177").click()
    expect(page.get_by_role("alert")).to_have_text("The server cannot be reached.")


def test_a_caller_id_is_removed_unless_a_live_campaign_lists_it(site, open_page):
    client = site.client()
    used = client.add_phone_number("+12125550101")
    spare = client.add_phone_number("+12125550102")
    audience = client.create_audience("people", [{"phone": "+12125550150"}])
    client.create_campaign(campaign_spec(audience.id, name="Next week",
                                         phone_number_ids=[used.id],
                                         scheduled_at="2026-03-09T09:00:00-05:00"))
    page = open_page(site)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, site.key)
    page.goto("/console/numbers")

    page.get_by_role("button", name="Remove +12125550101").click()
    expect(page.get_by_role("alert")).to_contain_text("Not removed:")
    expect(page.get_by_role("alert")).to_contain_text("Next week")
    expect(page.get_by_role("heading", name="Caller IDs", level=1)).to_have_count(1)
    assert {n.number for n in client.phone_numbers()} == {"+12125550101", "+12125550102"}

    page.get_by_role("button", name="Remove +12125550102").click()
    expect(page.get_by_role("status")).to_contain_text("Caller ID removed")
    rows = page.get_by_role("table", name="Caller IDs").get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="+12125550102")).to_have_count(0)
    assert [n.id for n in client.phone_numbers()] == [used.id]
    assert spare.id not in {n.id for n in client.phone_numbers()}
