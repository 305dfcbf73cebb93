"""Creating and editing a campaign in the console: the spec's sections as one form,
every field error next to its field (the API's validation), the edit rules of
dialer/editing.py shown as read-only fields with the reason, and a live estimate of
the unsaved values."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from dialer.api.console.session import COOKIE, csrf_token_for
from tests.console.conftest import sign_in
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec, ny_contacts

RUNNING = "Cannot change while running"


def seed(site):
    client = site.client()
    audience = client.create_audience("Spring leads", ny_contacts([["answered"]] * 40))
    number = client.add_phone_number("+12125550199")
    return client, audience, number


def label(page: Page, text: str):
    return page.get_by_label(text, exact=True)


def test_a_campaign_is_created_through_the_form_after_a_field_error_is_corrected(
        site, open_page):
    client, audience, number = seed(site)
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/campaigns/new")
    expect(page.get_by_role("heading", name="New campaign", level=1)).to_be_visible()
    for section in ("Targeting", "Schedule", "Pacing", "Call handling", "Retry", "Safety"):
        expect(page.get_by_role("group", name=section, exact=True)).to_be_visible()
    estimate = page.get_by_role("status", name="Estimate")
    expect(estimate).to_contain_text("Audience: choose one to see an estimate")
    screenshots(page, "campaign-new")

    label(page, "Name").fill("Spring renewals")
    label(page, "Agent").fill("agent-7")
    label(page, "Audience").select_option(label="Spring leads (40 contacts)")
    label(page, "+12125550199").check()
    label(page, "Time zone").select_option("America/New_York")
    label(page, "Calls from").fill("18:00")
    label(page, "Calls until").fill("09:00")
    label(page, "Saturday").check()
    label(page, "Channels").fill("-1")
    page.get_by_role("button", name="Create campaign").click()

    until, channels = label(page, "Calls until"), label(page, "Channels")
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(until).to_have_accessible_description(re.compile("start must be before end"))
    expect(page.locator(".field-error", has_text="start must be before end")).to_be_visible()
    expect(channels).to_have_accessible_description(re.compile("greater than or equal to 0"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("2 fields need a change")
    expect(summary.get_by_role("link", name="Channels")).to_be_visible()
    # What the person typed is kept.
    expect(label(page, "Name")).to_have_value("Spring renewals")
    expect(label(page, "Saturday")).to_be_checked()
    expect(label(page, "Audience")).to_have_value(audience.id)
    screenshots(page, "campaign-new-errors")

    # By keyboard: the summary has the focus, its link leads to the field.
    expect(summary).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(until).to_be_focused()
    until.fill("20:00")
    channels.fill("3")
    page.get_by_role("button", name="Create campaign").click()
    expect(page).to_have_url(re.compile(r"/console/campaigns/[0-9a-f-]{36}$"))
    created, = client.list()
    assert page.url.endswith(f"/console/campaigns/{created.id}")
    assert (created.name, created.agent_id, created.audience_id, created.phone_number_ids) == (
        "Spring renewals", "agent-7", audience.id, [number.id])
    assert created.spec["schedule"]["call_window"] == {"start": "18:00", "end": "20:00"}
    assert created.spec["schedule"]["allowed_days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert created.spec["pacing"]["channels"] == 3


def test_the_estimate_follows_the_unsaved_channels(site, open_page):
    seed(site)
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/campaigns/new")
    label(page, "Audience").select_option(label="Spring leads (40 contacts)")
    estimate = page.get_by_role("status", name="Estimate")
    # One channel, a call of 15 s ringing and 90 s talking: 3600 / 105 calls an hour.
    expect(estimate).to_contain_text("34 calls per hour")
    label(page, "Channels").fill("5")
    expect(estimate).to_contain_text("171 calls per hour")
    expect(estimate).to_contain_text("Done by")
    label(page, "Channels").fill("-2")
    expect(estimate).to_contain_text("No estimate yet")
    expect(estimate).to_contain_text("Channels: Input should be greater than or equal to 0")
    label(page, "Channels").fill("0")
    expect(estimate).to_contain_text("No calls would be placed: the pacing has no channels.")

    # Typing what does not change the figures leaves the live region as it is (so a
    # screen reader is not told the same estimate again on every key).
    page.locator("#estimate p").first.evaluate("p => p.dataset.seen = 'yes'")
    with page.expect_response("**/console/campaigns/estimate"):
        label(page, "Name").fill("Still no calls")
    expect(page.locator("#estimate p[data-seen=yes]")).to_have_count(1)
    label(page, "Channels").fill("2")
    expect(estimate).to_contain_text("69 calls per hour")
    expect(page.locator("#estimate p[data-seen=yes]")).to_have_count(0)


def test_an_edit_shows_what_cannot_change_now_and_saves_what_can(site, open_page):
    client, audience, number = seed(site)
    campaign = client.create_campaign(campaign_spec(
        audience.id, name="Autumn", phone_number_ids=[number.id], pacing={"channels": 2}))
    client.start(campaign.id)
    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign.id}/edit")
    expect(page.get_by_role("heading", name="Autumn", level=1)).to_be_visible()
    expect(label(page, "Name")).not_to_be_editable()
    expect(label(page, "Name")).to_have_accessible_description(re.compile(RUNNING))
    expect(label(page, "Audience")).to_be_disabled()
    expect(label(page, "Agent")).to_have_accessible_description(
        re.compile("The agent never changes once set"))
    expect(label(page, "Channels")).to_be_editable()
    # Estimated for the campaign's own participants and calls so far.
    expect(page.get_by_role("status", name="Estimate")).to_contain_text(
        re.compile(r"\d+ calls per hour"))
    label(page, "Channels").fill("6")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    expect(label(page, "Channels")).to_have_value("6")
    assert client.get(campaign.id).campaign.spec["pacing"]["channels"] == 6
    assert client.get(campaign.id).campaign.name == "Autumn"

    client.pause(campaign.id)
    page.goto(f"/console/campaigns/{campaign.id}/edit")
    expect(label(page, "Name")).to_be_editable()
    expect(label(page, "Audience")).to_have_accessible_description(
        re.compile("Cannot change while paused"))
    label(page, "Name").fill("Autumn renewals")
    label(page, "Ring for (seconds)").fill("2")
    page.get_by_role("button", name="Save changes").click()
    ring = label(page, "Ring for (seconds)")
    expect(ring).to_have_accessible_description(re.compile("greater than or equal to 5"))
    expect(label(page, "Name")).to_have_value("Autumn renewals")
    expect(label(page, "Audience")).to_have_value(audience.id)
    ring.fill("20")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    screenshots(page, "campaign-edit")
    saved = client.get(campaign.id).campaign
    assert (saved.name, saved.spec["call_handling"]["ring_timeout_s"]) == ("Autumn renewals", 20)
    assert [e.detail for e in client.events(campaign.id) if e.action == "updated"] == [
        "pacing.channels", "call_handling.ring_timeout_s, name"]


def test_a_form_for_a_campaign_of_another_organisation_is_not_found(site):
    other = site.stack.client(org="default")
    audience = other.create_audience("theirs", [{"phone": "+12125550100"}])
    theirs = other.create_campaign(campaign_spec(audience.id, name="Theirs"))
    with httpx.Client(base_url=site.base_url, follow_redirects=False) as http:
        assert http.post("/console/sign-in", data={"api_key": site.key}).status_code == 303
        assert http.get(f"/console/campaigns/{theirs.id}/edit").status_code == 404
        posted = http.post(f"/console/campaigns/{theirs.id}/edit",
                           data={"csrf_token": csrf_token_for(http.cookies[COOKIE]),
                                 "name": "Mine"})
        assert posted.status_code == 404
    assert other.get(theirs.id).campaign.name == "Theirs"


def test_a_stopped_campaign_shows_its_settings_and_offers_no_save(site):
    client, audience, _ = seed(site)
    campaign = client.create_campaign(campaign_spec(audience.id, name="Done"))
    client.stop(campaign.id)
    with httpx.Client(base_url=site.base_url, follow_redirects=False) as http:
        http.post("/console/sign-in", data={"api_key": site.key})
        page = http.get(f"/console/campaigns/{campaign.id}/edit")
        assert page.status_code == 200
        assert "This campaign is stopped: its settings can no longer change." in page.text
        assert "Save changes" not in page.text
        assert "Cannot change a campaign that is stopped" in page.text
        # A post changes nothing (every field is locked), and says so.
        posted = http.post(f"/console/campaigns/{campaign.id}/edit",
                           data={"csrf_token": csrf_token_for(http.cookies[COOKIE]),
                                 "name": "Renamed"})
        assert posted.headers["location"].endswith("/edit?unchanged=1")
        assert "Nothing to save" in http.get(posted.headers["location"]).text
    assert client.get(campaign.id).campaign.name == "Done"


def test_a_stale_edit_form_keeps_what_changed_elsewhere_and_saves_only_its_own(
        site, open_page):
    client, audience, number = seed(site)
    # A start stored with a fraction of a second: the form shows whole seconds.
    at = "2030-01-07T15:00:00.250000+00:00"
    campaign = client.create_campaign(campaign_spec(
        audience.id, name="Winter", phone_number_ids=[number.id], agent_id="agent-1",
        scheduled_at=at, pacing={"preset": "balanced"}))
    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign.id}/edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Nothing to save: no field changed")).to_be_visible()

    # Another tab lowers the channels while this form is open.
    client.update_campaign(campaign.id, {"pacing": {"channels": 2}})
    label(page, "Name").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(label(page, "Name")).to_have_attribute("aria-invalid", "true")
    # After the refusal the form still compares with what it first showed.
    label(page, "Name").fill("Winter calls")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    saved = client.get(campaign.id).campaign
    assert (saved.name, saved.spec["pacing"]["channels"]) == ("Winter calls", 2)
    assert saved.scheduled_at is not None and saved.scheduled_at.microsecond == 250000

    # Clearing the preset keeps the numbers the form shows.
    expect(label(page, "Channels")).to_have_value("2")
    label(page, "Pacing preset").select_option(label="None: the numbers below")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    pacing = client.get(campaign.id).campaign.spec["pacing"]
    assert pacing == {"preset": None, "channels": 2, "calls_per_minute": 20,
                      "spacing_seconds": 2.0, "daily_limit": None}


def test_error_links_to_checkbox_groups_move_the_focus(site, open_page):
    site.client().create_audience("Spring leads", ny_contacts([["answered"]] * 3))
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/campaigns/new")
    label(page, "Name").fill("No days")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        label(page, day).uncheck()
    label(page, "Audience").select_option(label="Spring leads (3 contacts)")
    page.get_by_role("button", name="Create campaign").click()
    summary = page.get_by_role("alert")
    summary.get_by_role("link", name="Days").click()
    expect(page.get_by_role("group", name="Days")).to_be_focused()
    # No caller IDs yet: the link to them still leads somewhere.
    page.goto("/console/campaigns/new")
    page.locator("#f-phone-number-ids").focus()
    expect(page.locator("#f-phone-number-ids")).to_be_focused()
