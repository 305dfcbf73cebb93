"""The console of one campaign, live: will it dial, the actions its status allows, the
channel gauge and counters and the event log moving without a reload (pushed over
server-sent events), the breaker reset, and the log carrying on after the API restarts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Page, expect

from dialer.api.console import live_stream
from dialer.api.console.live_stream import LogTranslator, actions_for
from dialer.views import CampaignView
from tests.console.conftest import Site, new_org_key, sign_in
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import RECORDING_PROVIDER

# The stream's figures every half second (the default, 2 s, makes a test wait).
FAST_METRICS = {"DIALER_API_STREAM_METRICS_S": "0.5", "DIALER_API_STREAM_POLL_S": "0.25"}

# Installed before the page's own scripts: every layout shift the page makes, summed
# (the test's observer, not the app's: the app runs no inline script).
LAYOUT_SHIFT_OBSERVER = """
window.__layoutShift = 0;
new PerformanceObserver(function (list) {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) { window.__layoutShift += entry.value; }
  }
}).observe({type: "layout-shift", buffered: true});
"""

# The row at the middle of the log's box, and where it is on screen.
READING_ROW = """box => {
  const r = box.getBoundingClientRect();
  const row = document.elementFromPoint(r.left + 20, r.top + r.height / 2).closest("li");
  return [row.id, Math.round(row.getBoundingClientRect().top)];
}"""

# The test's count of the stream's openings and errors (the extension's events).
SSE_COUNTER = """
window.__sse = {open: 0, error: 0};
document.addEventListener("htmx:sseOpen", function () { window.__sse.open += 1; });
document.addEventListener("htmx:sseError", function () { window.__sse.error += 1; });
"""


def _campaign(site: Site, contacts: list[dict], **overrides) -> str:
    client = site.client()
    audience = client.create_audience("New York", contacts)
    number = client.add_phone_number("+12125550199")
    spec = campaign_spec(audience.id, name="Spring renewals", phone_number_ids=[number.id])
    for key, value in overrides.items():
        spec[key] = {**spec[key], **value} if isinstance(spec.get(key), dict) else value
    return client.create_campaign(spec).id


def _open_console(page: Page, site: Site, campaign_id: str) -> None:
    sign_in(page, site.key)
    page.goto(f"/console/campaigns/{campaign_id}")
    expect(page.get_by_role("heading", name="Spring renewals", level=1)).to_be_visible()


def _log(page: Page):
    return page.get_by_role("region", name="Event log").get_by_role("listitem")


def _breaker(page: Page):
    return page.get_by_role("region", name="Circuit breaker")


def _stat(page: Page, label: str):
    return page.locator(".stat", has=page.get_by_text(label, exact=True)).locator("dd")


def test_a_log_row_masks_every_phone_number_and_keeps_its_event_key():
    at = datetime(2026, 3, 2, 14, 1, 5, tzinfo=UTC)
    rows = LogTranslator("America/New_York")
    placed = rows.row("placed", {"call_id": "c1", "contact_id": 3, "phone": "+12125550123",
                                 "from_number": "+12125550199", "attempt": 1, "at": at})
    skipped = rows.row("skipped", {"id": 7, "at": at, "reason": "dnc", "detail": None,
                                   "contact_id": 4, "phone": "+12125550124"})
    rows.row("outcome", {"call_id": "c1", "contact_id": 3, "attempt": 1, "outcome": "no_answer",
                         "duration_s": None, "goal_achieved": None, "at": at})
    retry = rows.row("retry_scheduled", {"call_id": "c1", "contact_id": 3, "attempt": 1,
                                         "next_attempt_at": at})
    assert placed is not None and skipped is not None and retry is not None
    assert placed.text == "Call to +1212555**** from +1212555****, attempt 1"
    assert skipped.text == "+1212555**** skipped: dnc"
    assert (placed.key, skipped.key, retry.key) == ("log-pc1", "log-s7", "log-rc1")
    assert retry.at == at and retry.text == "Contact 3: attempt 2 at Mar 02 09:01:05"


def test_the_actions_are_those_the_status_allows_and_those_that_stop_dialing_ask_first():
    def labels(status: str, breaker_open: bool = False) -> list[str]:
        campaign = CampaignView.model_construct(name="C", status=status,
                                                breaker_open=breaker_open)
        return [a.label + ("?" if a.confirm else "") for a in actions_for(campaign)]

    assert labels("draft") == ["Start", "Stop?"]
    assert labels("running") == ["Pause?", "Stop?"]
    assert labels("paused") == ["Resume", "Stop?"]
    assert labels("paused", breaker_open=True) == ["Stop?"]  # reset the breaker first
    assert labels("completed") == labels("stopped") == labels("failed") == []


def test_readiness_names_what_is_in_the_way_and_a_refused_action_says_why(
        start_site, open_page):
    site = start_site(extra_env=FAST_METRICS)
    campaign_id = _campaign(site, ny_contacts([["answered"]]), agent_id=None)
    page = open_page(site)
    _open_console(page, site, campaign_id)

    # The first thing in the way, prominently; then every check, ok or not, in words.
    expect(page.get_by_text("Will not dial: draft: start it")).to_be_visible()
    checks = page.get_by_role("region", name="Will it dial?").get_by_role("listitem")
    expect(checks.filter(has_text="agent")).to_contain_text("Not OK")
    expect(checks.filter(has_text=re.compile("^OK"))).not_to_have_count(0)
    expect(page.get_by_text("0 of 4 channels in use · organisation cap 100")).to_be_visible()

    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("Start refused: cannot start")
    expect(page).to_have_url(f"{site.base_url}/console/campaigns/{campaign_id}")  # reloadable
    page.get_by_label("Channels to allocate").fill("")
    page.get_by_role("button", name="Allocate channels").click()
    expect(page.get_by_label("Channels to allocate")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Allocating channels refused")
    page.get_by_label("Channels to allocate").fill("2")
    page.get_by_role("button", name="Allocate channels").click()
    expect(page.get_by_text("Channels allocated.")).to_be_visible()
    expect(page.get_by_text("0 of 2 channels in use")).to_be_visible()


def test_a_revoked_key_closes_the_live_log_and_says_why(start_site, open_page):
    from dialer.service import orgs

    site = start_site(extra_env=FAST_METRICS)
    campaign_id = _campaign(site, ny_contacts([["answered"]]))
    page = open_page(site)
    _open_console(page, site, campaign_id)
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    rt = site.stack.client().runtime
    key_id, = [k.id for k in orgs.list_api_keys(rt, site.org)]
    orgs.revoke_api_key(rt, key_id)
    expect(page.get_by_role("status").filter(has_text="Signed out")).to_be_visible()
    page.get_by_role("link", name="Sign in again").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_another_organisations_campaign_stream_is_not_found(site):
    other = site.stack.client(org="default")
    audience = other.create_audience("theirs", [{"phone": "+12125550100"}])
    theirs = other.create_campaign(campaign_spec(audience.id, name="Theirs"))
    with httpx.Client(base_url=site.base_url) as http:
        assert http.post("/console/sign-in", data={"api_key": site.key}).status_code == 303
        answer = http.get(f"/console/campaigns/{theirs.id}/stream",
                          headers={"Accept": "text/event-stream"})
        assert answer.status_code == 404
        assert http.get(f"/console/campaigns/{theirs.id}").status_code == 404
    new_org_key(site.stack, "spare")


def test_start_then_the_gauge_counters_and_log_move_without_a_reload_and_nothing_shifts(
        start_site, open_page):
    site = start_site(dialing=True, time_scale=120, extra_env=FAST_METRICS)
    contacts = ny_contacts([["no_answer", "answered"], ["answered"], ["busy", "answered"]] * 14,
                           talk_s=120)  # still running when the test pauses it
    campaign_id = _campaign(site, contacts, pacing={"channels": 3})
    site.client().add_dnc("+12125550005")  # skipped, with the reason in the log
    page = open_page(site)
    page.add_init_script(LAYOUT_SHIFT_OBSERVER)
    _open_console(page, site, campaign_id)
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    expect(_stat(page, "Participants")).to_have_text("42")
    expect(_stat(page, "Calls placed")).to_have_text("0")

    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Started.")).to_be_visible()
    page.evaluate("window.__navigated = true")  # gone if anything reloads the page
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^[1-3] of 3 channels in use"))).to_be_visible()
    expect(_stat(page, "Calls placed")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(_stat(page, "Connected")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(_log(page).filter(has_text=re.compile(r"Call to \+1212555\*{4}"))).not_to_have_count(0)
    expect(_log(page).filter(has_text="answered")).not_to_have_count(0)
    expect(_log(page).filter(has_text=re.compile(r"\+1212555\*{4} skipped: \w"))).to_have_count(1)
    expect(page.locator(".page-head .badge")).to_have_text("running")

    # Rows keep arriving; the page around the log does not move (the log and what
    # follows it in view: a shift off screen would not count).
    # In one script task: the live stream swaps the outcomes card (heading included)
    # out of band, so a located heading can be detached between Playwright's steps.
    page.evaluate("document.getElementById('outcomes-heading')"
                  ".scrollIntoView({block: 'nearest'})")
    shift_before = page.evaluate("window.__layoutShift")
    rows_before = _log(page).count()
    expect(_log(page)).not_to_have_count(rows_before)
    expect(_log(page).nth(rows_before + 9)).to_be_attached()
    shift = page.evaluate("window.__layoutShift") - shift_before
    assert shift < 0.01, f"layout shift {shift} while the log streamed"
    # At its end, the log follows the newest row (appended at the end, as a log reads).
    box = page.get_by_role("region", name="Event log")
    assert box.evaluate("b => b.scrollHeight > b.clientHeight"), "the log never filled its box"
    assert box.evaluate("b => b.scrollHeight - b.scrollTop - b.clientHeight < 8")
    assert page.evaluate("window.__navigated") is True
    # Were the browser to open a new stream (the server was gone), it would resume
    # after the last event the page has, not from the page's load.
    stream = page.locator("[sse-connect]").get_attribute("sse-connect") or ""
    assert re.search(r"after=e\d+\.s\d+\.p\d+\.o\d+$", stream), stream

    # Someone reading an older row (the log scrolled up): arrivals do not move it.
    box.evaluate("box => { box.scrollTop = 120; }")
    reading = box.evaluate(READING_ROW)
    rows_before = _log(page).count()
    expect(_log(page).nth(rows_before + 4)).to_be_attached()
    still = box.evaluate(READING_ROW)
    assert still[0] == reading[0] and abs(still[1] - reading[1]) <= 2, (reading, still)
    assert "+1212555" not in re.sub(r"\+1212555\*{4}", "", page.content())
    screenshots(page, "campaign-console")

    asked: list[str] = []

    def confirm(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Paused.")).to_be_visible()
    assert asked == ["Pause Spring renewals? No new calls are placed; calls in progress "
                     "finish."]
    expect(page.locator(".page-head .badge")).to_have_text("paused")
    expect(_log(page).filter(has_text="paused")).not_to_have_count(0)
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Resumed.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text(re.compile("running|completed"))
    assert len(asked) == 1  # resuming starts dialing again: nothing to confirm
    ids = page.eval_on_selector_all("#log-rows li", "rows => rows.map(r => r.id)")
    assert ids and len(ids) == len(set(ids))


def test_a_tripped_breaker_is_shown_and_reset_from_the_page(start_site, open_page):
    site = start_site(dialing=True, time_scale=300, extra_env=FAST_METRICS)
    campaign_id = _campaign(
        site, ny_contacts([["failed", "answered"]] * 12), pacing={"channels": 2},
        retry={"max_retries": 1, "retry_delay_minutes": 1},
        safety={"circuit_breaker": {"enabled": True, "failure_rate": 0.5, "min_calls": 4,
                                    "window": 6}})
    page = open_page(site)
    _open_console(page, site, campaign_id)
    expect(_breaker(page).get_by_text("Breaker closed")).to_be_visible()
    page.get_by_role("button", name="Start").click()

    # Tripped while the page is open: it says so without a reload.
    expect(_breaker(page).get_by_text("Breaker open")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Paused by: circuit breaker")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("paused")
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    page.get_by_role("button", name="Reset breaker").click()
    expect(page.get_by_text("Breaker reset.")).to_be_visible()
    expect(_breaker(page).get_by_text("Breaker closed")).to_be_visible()
    expect(page.get_by_role("button", name="Reset breaker")).to_have_count(0)
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Resumed.")).to_be_visible()


def test_a_campaign_that_fails_while_the_page_is_open_says_why_and_when(
        start_site, open_page):
    site = start_site(dialing=True, provider=RECORDING_PROVIDER, extra_env={
        **FAST_METRICS, "DIALER_FAIL_AFTER_PROVIDER_REFUSALS": "2"})
    campaign_id = _campaign(site, ny_contacts(
        [["answered"]] * 2, test_provider="refuse", test_refusals=1000,
        test_refuse_permanently=True, test_refusal="account suspended"))
    page = open_page(site)
    _open_console(page, site, campaign_id)
    page.get_by_role("button", name="Start").click()

    # Failed while the page is open: why and when, without a reload, and no action left.
    readiness = page.get_by_role("region", name="Will it dial?")
    expect(readiness.locator(".verdict")).to_contain_text(
        re.compile(r"^Will not dial: failed \w{3} \d\d \d\d:\d\d:\d\d: the provider "
                   r"refused the first 2 calls .*: account suspended$"), timeout=60_000)
    expect(page.locator(".page-head .badge")).to_have_text("failed")
    expect(page.get_by_text("nothing more to start or stop")).to_be_visible()
    expect(_breaker(page).get_by_text("Paused by")).to_have_count(0)
    failed = site.client().get(campaign_id).campaign
    assert failed.failed_at is not None and failed.error is not None
    when = live_stream.clock(failed.failed_at, failed.timezone)
    page.reload()
    expect(readiness.locator(".verdict")).to_have_text(
        f"Will not dial: failed {when}: {failed.error}")


def test_the_log_carries_on_after_the_api_restarts(start_site, open_page):
    site = start_site(dialing=True, time_scale=120, extra_env=FAST_METRICS)
    contacts = ny_contacts([["answered"]] * 60, talk_s=90)
    campaign_id = _campaign(site, contacts, pacing={"channels": 2})
    page = open_page(site)
    page.add_init_script(SSE_COUNTER)
    _open_console(page, site, campaign_id)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Started.")).to_be_visible()
    expect(_log(page).filter(has_text="Call to")).not_to_have_count(0)
    page.evaluate("window.__navigated = true; window.__sse = {open: 0, error: 0}")

    site.restart_api()
    shown = _log(page).count()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=30_000)
    # New rows arrive (a row already shown is never added again: the count only grows
    # by rows the page did not have).
    expect(_log(page)).not_to_have_count(shown, timeout=30_000)
    ids = page.eval_on_selector_all("#log-rows li", "rows => rows.map(r => r.id)")
    assert len(ids) == len(set(ids)), "a row shown twice after the reconnect"
    sse = page.evaluate("window.__sse")
    assert sse["error"] >= 1 and sse["open"] >= 1, sse  # cut, then open again
    assert page.evaluate("window.__navigated") is True
