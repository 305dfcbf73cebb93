"""A campaign's analytics in the console: the funnel, the day x hour heatmap (calls
placed and answer rate), pickup by attempt and by caller ID, and the executions, each
a table a screen reader reads; "No calls yet" before any call.

The calls are rows of known shape written beside a real campaign (no dialing needed:
tests/support/analytics_rows.py), so each figure on the page is checked against the
client's own answer; test_campaign_leads.py's dialing test sees a real run's."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.console.conftest import sign_in
from tests.support.analytics_rows import CALLER_A, CALLER_B, MONDAY, Row, make_campaign, write_rows
from tests.support.browser import screenshots

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def seeded_campaign(client) -> str:
    """Eight contacts, calls over three days (MONDAY is 10:00 in New York), two runs."""
    campaign_id, p = make_campaign(client, 8, name="Spring renewals")
    t = MONDAY
    rows = [
        Row(p[0], 1, "answered", t, goal=True),
        Row(p[1], 1, "no_answer", t), Row(p[1], 2, "answered", t + DAY, CALLER_B, goal=False),
        Row(p[2], 1, "busy", t + HOUR), Row(p[2], 2, "no_answer", t + DAY + HOUR, CALLER_B),
        Row(p[2], 3, "failed", t + 2 * DAY, execution=2),
        Row(p[3], 1, "answered", t + 2 * HOUR, goal=True),
        Row(p[4], 1, "voicemail", t + 2 * DAY + 3 * HOUR, CALLER_B, execution=2),
        Row(p[5], 1, None, t + 2 * DAY + 3 * HOUR, execution=2),
    ]
    started = MONDAY - HOUR
    write_rows(client, campaign_id, rows,
               statuses={p[0]: "completed", p[1]: "completed", p[2]: "failed",
                         p[3]: "completed", p[4]: "retry_scheduled", p[5]: "dialing",
                         p[6]: "skipped_dnc"},
               executions=[(1, "completed", started, started + 5 * HOUR, 8),
                           (2, "stopped", started + 2 * DAY, started + 2 * DAY + 4 * HOUR, 8)])
    return campaign_id


def test_the_funnel_heatmap_pickup_and_runs_read_as_tables(site, open_page):
    client = site.client()
    campaign_id = seeded_campaign(client)
    funnel = client.funnel(campaign_id)
    heat = client.heatmap(campaign_id)

    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign_id}/analytics")
    expect(page.get_by_role("heading", name="Spring renewals", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Analytics")).to_have_attribute("aria-current", "page")

    table = page.get_by_role("table", name="Funnel")
    connected = table.get_by_role("row", name=re.compile("^Connected"))
    expect(connected).to_contain_text(f"{funnel.connected}")
    expect(connected).to_contain_text(f"{funnel.connected_pct:.1f}%")
    expect(connected.locator("meter")).to_have_attribute("value", str(funnel.connected))
    expect(table.get_by_role("row", name=re.compile("^Contacts"))).to_contain_text("8")

    # Monday 10:00 in New York: the placed count is the cell's text, shaded by its class.
    placed = page.get_by_role("table", name=re.compile("^Calls placed by day and hour"))
    expect(placed).to_contain_text("America/New_York")
    monday = placed.get_by_role("row", name=re.compile("^Monday"))
    cell = next(c for c in heat.cells if c.day == "mon" and c.hour == 10)
    assert cell.placed == 2
    expect(monday.get_by_role("cell").nth(10)).to_have_text(str(cell.placed))
    expect(monday.get_by_role("cell").nth(10)).to_have_class(re.compile(r"\bheat-9\b"))
    expect(monday.get_by_role("cell").nth(3)).to_have_class(re.compile(r"\bheat-0\b"))


    by_attempt = page.get_by_role("table", name="Pickup by attempt")
    for row in client.pickup_by_attempt(campaign_id):
        line = by_attempt.get_by_role("row", name=re.compile(f"^{row.key} "))
        expect(line).to_contain_text(f"{row.placed}")
        expect(line).to_contain_text(f"{row.rate * 100:.0f}%")
    by_caller = page.get_by_role("table", name="Pickup by caller ID")
    expect(by_caller.get_by_role("row", name=re.compile(re.escape(CALLER_A)))).to_be_visible()
    expect(by_caller.get_by_role("row", name=re.compile(re.escape(CALLER_B)))).to_be_visible()

    runs = client.execution_summary(campaign_id)
    region = page.get_by_role("region", name="Runs")
    expect(region.get_by_role("term")).to_have_text(
        ["Total", "Running", "Paused", "Completed", "Stopped", "Failed"])
    expect(region.get_by_role("definition")).to_have_text(["2", "0", "0", "1", "1", "0"])
    run_table = region.get_by_role("table", name="Each run's duration and progress")
    first = run_table.get_by_role("row", name=re.compile("^1 "))
    expect(first).to_contain_text("completed")
    expect(first).to_contain_text("5 h 00 min")
    expect(first).to_contain_text(f"{runs.executions[0].progress_pct:.0f}%")
    expect(first.locator("progress")).to_have_attribute(
        "value", str(runs.executions[0].processed_members))
    screenshots(page, "campaign-analytics")

    # The other measure, swapped in by htmx (the link works without script too).
    page.get_by_role("link", name="Answer rate").click()
    rate = page.get_by_role("table", name=re.compile("^Answer rate by day and hour"))
    expect(rate.get_by_role("row", name=re.compile("^Monday")).get_by_role("cell").nth(10)
           ).to_have_text("50%")
    expect(rate.get_by_role("row", name=re.compile("^Tuesday")).get_by_role("cell").nth(0)
           ).to_have_text("—")
    expect(page.get_by_role("link", name="Answer rate")).to_be_focused()  # kept in the swap


def test_a_campaign_without_calls_says_so(site, open_page):
    campaign_id, _ = make_campaign(site.client(), 3, name="Not yet")
    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign_id}/analytics")
    expect(page.get_by_role("heading", name="Not yet", level=1)).to_be_visible()
    expect(page.get_by_text("No calls yet").first).to_be_visible()
    expect(page.get_by_role("table", name="Funnel").get_by_role(
        "row", name=re.compile("^Contacts"))).to_contain_text("3")
    response = page.goto("/console/campaigns/no-such-campaign/analytics")
    assert response is not None and response.status == 404
