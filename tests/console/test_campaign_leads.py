"""A campaign's leads and call log in the console: participants a page at a time with a
status filter, requeue and close (refused with a message once the campaign finished);
the call log of a real run with the simulated provider (outcomes, recording and
transcript links, filters, the CSV download), and that run's funnel and heatmap on the
analytics page, checked against the client's."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from dialer.api.console.charts import DAY_NAMES
from tests.console.conftest import sign_in
from tests.support.analytics_rows import MONDAY, make_campaign
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for


def phone(index: int) -> str:
    return f"+1212555{index:04d}"  # ny_contacts' numbers


def set_participants(client, campaign_id: str, rows: dict[int, dict]) -> None:
    """Participants (by their contact's index in ny_contacts) as a run leaves them."""
    with client.runtime.engine.begin() as conn:
        for index, values in rows.items():
            conn.execute(sa.text(
                "UPDATE participants SET status = :status, attempts = :attempts, "
                "last_outcome = :outcome, last_attempt_at = :last, next_attempt_at = :next "
                "WHERE campaign_id = :c AND phone = :phone"),
                {"c": campaign_id, "phone": phone(index), "next": None, "outcome": None,
                 "last": None, "attempts": 0, **values})


def lead_row(page: Page, index: int):
    return page.get_by_role("table", name="Leads").get_by_role("row").filter(
        has_text=phone(index))


def data_rows(page: Page):
    return page.get_by_role("table", name="Leads").locator("tbody tr")


def test_leads_are_paged_filtered_requeued_and_closed(site, open_page):
    client = site.client()
    campaign_id, _ = make_campaign(client, 30, name="Spring renewals")
    tried = MONDAY - timedelta(hours=2)
    failed = {"status": "failed", "attempts": 3, "outcome": "no_answer", "last": tried}
    set_participants(client, campaign_id, {
        0: failed, 1: failed, 2: {**failed, "outcome": "busy"},
        3: {"status": "completed", "attempts": 1, "outcome": "answered", "last": tried},
        4: {"status": "retry_scheduled", "attempts": 1, "outcome": "voicemail",
            "last": tried, "next": MONDAY}})

    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign_id}/leads")
    expect(page.get_by_role("link", name="Leads")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(data_rows(page)).to_have_count(25)
    expect(lead_row(page, 4)).to_contain_text("retry_scheduled")
    expect(lead_row(page, 4)).to_contain_text("voicemail")
    expect(lead_row(page, 4)).to_contain_text("2026-03-02 10:00")  # next attempt, NY time
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(data_rows(page)).to_have_count(5)
    expect(lead_row(page, 29)).to_contain_text("c29")
    expect(page.get_by_role("link", name="Next")).to_have_count(0)

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Page 1 of 1")).to_be_visible()
    expect(data_rows(page)).to_have_count(3)
    expect(lead_row(page, 2)).to_contain_text("busy")
    screenshots(page, "campaign-leads")

    page.get_by_label("Select c0").check()
    page.get_by_label("Select c1").check()
    page.get_by_role("button", name="Requeue").click()
    expect(page.get_by_role("status")).to_have_text("Requeued 2 leads.")
    expect(page.get_by_label("Status")).to_have_value("failed")  # the filter is kept
    expect(data_rows(page)).to_have_count(1)

    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(lead_row(page, 0)).to_contain_text("pending")
    expect(lead_row(page, 0).get_by_role("cell").nth(3)).to_have_text("0")  # attempts

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Select c5").check()
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("status")).to_have_text("Closed 1 lead.")
    expect(lead_row(page, 5)).to_contain_text("completed")

    # Nothing selected: said so, nothing sent.
    page.get_by_role("button", name="Requeue").click()
    expect(page.get_by_role("alert")).to_have_text("Select at least one lead first.")

    # A notice is only what the dialer could have said: a count within one page.
    page.goto(f"/console/campaigns/{campaign_id}/leads?done=close&count=1000000")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)
    page.goto(f"/console/campaigns/{campaign_id}/leads?status=failed&page=1")
    expect(page.get_by_role("link", name="Next")).to_have_count(0)


def test_a_finished_campaign_refuses_requeue_and_close_with_a_message(site, open_page):
    client = site.client()
    campaign_id, _ = make_campaign(client, 3, name="Old list")
    client.stop(campaign_id)

    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign_id}/leads")
    before = lead_row(page, 1).get_by_role("cell").nth(2).inner_text()
    page.get_by_label("Select c1").check()
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("alert")).to_contain_text("stopped")
    expect(page.get_by_role("alert")).to_be_focused()  # focus is not lost in the swap
    assert dialogs and "Close" in dialogs[0]
    expect(page).to_have_url(re.compile(r"/leads$"))  # htmx swapped the refusal in
    expect(lead_row(page, 1).get_by_role("cell").nth(2)).to_have_text(before)
    expect(page.get_by_label("Select c1")).to_be_checked()  # the selection survives

    page.get_by_role("button", name="Requeue").click()
    expect(page.get_by_role("alert")).to_contain_text("stopped")

    # A filter the dialer does not know is named, not guessed; a page past the last says so.
    response = page.goto(f"/console/campaigns/{campaign_id}/leads?status=bogus")
    assert response is not None and response.status == 422
    expect(page.get_by_role("heading", name="Not valid")).to_be_visible()
    expect(page.get_by_text(re.compile("^status: "))).to_be_visible()
    page.goto(f"/console/campaigns/{campaign_id}/leads?page=9")
    page.get_by_role("link", name="Go to the first page").click()
    expect(lead_row(page, 1)).to_be_visible()


def test_the_call_log_of_a_real_run_with_links_filters_and_csv(start_site, open_page):
    site = start_site(dialing=True, time_scale=600)
    client = site.client()
    audience = client.create_audience("renewals", ny_contacts(
        [["answered"], ["no_answer", "answered"], ["busy", "busy", "busy"], ["voicemail"]]))
    number = client.add_phone_number("+14155550100")
    campaign = client.create_campaign(campaign_spec(
        audience.id, name="Renewals run", phone_number_ids=[number.id],
        retry={"max_retries": 2, "retry_delay_minutes": 1}))
    client.start(campaign.id)
    wait_for(lambda: client.get(campaign.id).campaign.status == "completed", timeout_s=90,
             what="the campaign completed", interval_s=0.3)
    calls = client.calls(campaign.id)
    answered = sorted((c for c in calls if c.outcome == "answered"), key=lambda c: c.phone)
    assert len(answered) == 2 and all(c.recording_url for c in answered)
    # A provider's URL that is not http(s) never becomes a link.
    with client.runtime.engine.begin() as conn:
        conn.execute(sa.text("UPDATE calls SET recording_url = 'javascript:alert(1)' "
                             "WHERE campaign_id = :c AND to_number = :n"),
                     {"c": campaign.id, "n": phone(2)})

    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign.id}/calls")
    log = page.get_by_role("table", name="Calls")
    expect(log.locator("tbody tr")).to_have_count(len(calls))
    first = log.get_by_role("row").filter(has_text=phone(0))
    assert answered[0].phone == phone(0)
    expect(first).to_contain_text("answered")
    expect(first).to_contain_text("+14155550100")
    recording = first.get_by_role("link", name=re.compile("^Recording"))
    expect(recording).to_have_attribute("href", answered[0].recording_url)
    expect(recording).to_have_attribute("rel", "noopener noreferrer")
    expect(first.get_by_role("link", name=re.compile("^Transcript"))).to_have_attribute(
        "href", answered[0].transcript_url)
    busy = log.get_by_role("row").filter(has_text=phone(2))
    expect(busy).to_have_count(3)
    expect(busy.first).to_contain_text("busy")
    expect(busy.first.get_by_role("link")).to_have_count(0)
    screenshots(page, "campaign-calls")

    page.get_by_label("Outcome").select_option("answered")
    page.get_by_role("button", name="Filter").click()
    expect(log.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_text("Page 1 of 1")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["call_id", "contact_id", "phone"]
    assert sorted(r[0] for r in rows[1:]) == sorted(c.call_id for c in calls)

    # The same run on the analytics page: the funnel and the heatmap's cell.
    funnel = client.funnel(campaign.id)
    page.get_by_role("link", name="Analytics").click()
    connected = page.get_by_role("table", name="Funnel").get_by_role(
        "row", name=re.compile("^Connected"))
    expect(connected).to_contain_text(str(funnel.connected))
    cell = max(client.heatmap(campaign.id).cells, key=lambda c: c.placed)
    placed = page.get_by_role("table", name=re.compile("^Calls placed by day and hour"))
    day = DAY_NAMES[cell.day]
    expect(placed.get_by_role("row", name=re.compile(f"^{day}")).get_by_role(
        "cell").nth(cell.hour)).to_have_text(str(cell.placed))
