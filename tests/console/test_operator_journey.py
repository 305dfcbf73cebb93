"""An operator's whole path through the console, as the issue states it: sign in,
upload a CSV, create a campaign through the form (a field error shown and
corrected), start it, watch the gauge and the event log move without reloading,
pause and resume, reset a tripped breaker, read the funnel and the heatmap, sign out
and be refused. Everything through what a person sees, by roles and labels, against
uvicorn, a Celery worker and a beat with the simulated provider."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.console.conftest import Site, sign_in
from tests.support.scenario import campaign_spec, ny_contacts

# The stream's figures every half second, so the page's numbers move quickly.
FAST = {"DIALER_API_STREAM_METRICS_S": "0.5", "DIALER_API_STREAM_POLL_S": "0.25",
        "DIALER_SIM_TALK_S": "[20, 60]"}
CONTACTS = 30


def journey_csv() -> bytes:
    rows = ["phone,name,sim_outcomes"]
    scripts = ("answered", "no_answer;answered", "busy;answered")
    rows += [f"+1212555{index:04d},Lead {index},{scripts[index % 3]}"
             for index in range(CONTACTS)]
    rows.append("12345,Not a number,answered")  # rejected, named, downloadable
    return ("\n".join(rows) + "\n").encode()


def field(page: Page, label: str):
    return page.get_by_label(label, exact=True)


def stat(page: Page, label: str):
    return page.locator(".stat", has=page.get_by_text(label, exact=True)).locator("dd")


def upload_audience(page: Page) -> None:
    page.get_by_role("link", name="Audiences").click()
    page.get_by_label("Audience name").fill("Journey leads")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": journey_csv()}])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Imported {CONTACTS} contacts; 1 row rejected.")
    rejected = page.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_role("row").nth(1)).to_contain_text(
        f"{CONTACTS + 2}phone: not a valid phone number")


def create_campaign_through_the_form(page: Page) -> str:
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    field(page, "Name").fill("Journey renewals")
    field(page, "Agent").fill("agent-journey")
    field(page, "Audience").select_option(label=f"Journey leads ({CONTACTS} contacts)")
    field(page, "+12125550199").check()
    field(page, "Time zone").select_option("America/New_York")
    field(page, "Calls from").fill("00:00")
    field(page, "Calls until").fill("23:59")
    for day in ("Saturday", "Sunday"):
        field(page, day).check()
    field(page, "Retries per contact").fill("2")
    field(page, "Minutes before a retry").fill("1")
    field(page, "Channels").fill("-1")  # refused: at least 0
    page.get_by_role("button", name="Create campaign").click()

    channels = field(page, "Channels")
    expect(channels).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Channels")
    channels.fill("3")
    page.get_by_role("button", name="Create campaign").click()
    expect(page).to_have_url(re.compile(r"/console/campaigns/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Journey renewals", level=1)).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def trip_a_breaker(site: Site) -> str:
    """A second campaign whose every call fails: its breaker trips and pauses it."""
    client = site.client()
    audience = client.create_audience("Failing", ny_contacts([["failed"]] * 12, start=100))
    number, = client.phone_numbers()
    campaign = client.create_campaign(campaign_spec(
        audience.id, name="Failing line", phone_number_ids=[number.id],
        schedule={"call_window": {"start": "00:00", "end": "23:59"},
                  "allowed_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        safety={"circuit_breaker": {"enabled": True, "failure_rate": 0.5, "min_calls": 4,
                                    "window": 10}}))
    client.start(campaign.id)
    return campaign.id


def test_an_operator_runs_a_campaign_from_the_browser(start_site, open_page):
    site = start_site(dialing=True, time_scale=120, extra_env=FAST)
    site.client().add_phone_number("+12125550199")
    page = open_page(site)
    page.on("dialog", lambda dialog: dialog.accept())  # "Pause dialing?" and the like

    sign_in(page, site.key)
    upload_audience(page)
    campaign_id = create_campaign_through_the_form(page)

    # Start; from here on the page is never reloaded: the stream moves it.
    expect(stat(page, "Calls placed")).to_have_text("0")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Started.")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_text(re.compile(r"^[1-3] of 3 channels in use"))).to_be_visible()
    expect(stat(page, "Calls placed")).to_have_text(re.compile(r"^[1-9]\d*$"))
    log = page.get_by_role("region", name="Event log").get_by_role("listitem")
    expect(log.filter(has_text=re.compile(r"Call to \+1212555\*{4}"))).not_to_have_count(0)
    expect(log.filter(has_text="answered")).not_to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Paused.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Resumed.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("running")

    # A tripped breaker, reset from its console.
    failing_id = trip_a_breaker(site)
    page.goto(f"/console/campaigns/{failing_id}")
    expect(page.get_by_text("Breaker open", exact=True)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Reset breaker").click()
    expect(page.get_by_text("Breaker reset.")).to_be_visible()
    expect(page.get_by_text("Breaker closed", exact=True)).to_be_visible()

    # The first campaign's funnel and heatmap, once some calls are answered.
    page.goto(f"/console/campaigns/{campaign_id}")
    expect(stat(page, "Connected")).to_have_text(re.compile(r"^[1-9]\d*$"))
    page.get_by_role("navigation", name="Campaign").get_by_role("link", name="Analytics").click()
    funnel = page.get_by_role("table", name=re.compile("Funnel"))
    expect(funnel.get_by_role("row", name=re.compile("^Contacts"))).to_contain_text(
        str(CONTACTS))
    expect(funnel.get_by_role("row", name=re.compile("^Connected"))).to_contain_text(
        re.compile(r"[1-9]"))
    heatmap = page.get_by_role("table", name=re.compile("heatmap|by day and hour", re.I))
    expect(heatmap.get_by_role("row", name=re.compile("^Mon"))).to_contain_text(
        re.compile(r"[1-9]"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"/console/campaigns/{campaign_id}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Journey renewals")).to_have_count(0)
