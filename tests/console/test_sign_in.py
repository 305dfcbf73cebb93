"""Signing in and out of the console: a session token (never the key) in an HttpOnly,
SameSite cookie, forms refused without the session's token, one organisation's campaigns
only."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from dialer.api.console.session import COOKIE
from tests.console.conftest import new_org_key, sign_in, signed_in_http
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec


def test_a_wrong_key_is_refused_with_a_message_and_the_right_one_signs_in(site, open_page):
    page = open_page(site)
    page.goto("/console/campaigns")
    expect(page).to_have_url(f"{site.base_url}/console/sign-in?next=/console/campaigns")
    screenshots(page, "sign-in")
    page.get_by_label("API key").fill("dk_live_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That API key is unknown or revoked.")

    page.get_by_label("API key").fill(site.key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    cookie, = page.context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict",
                                                                         "/console")


def test_signing_out_ends_the_session(site, open_page):
    page = open_page(site)
    sign_in(page, site.key)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.context.cookies() == []
    page.goto("/console/campaigns")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_revoked_key_signs_the_browser_out(site, open_page):
    from dialer.service import orgs

    page = open_page(site)
    sign_in(page, site.key)
    rt = site.stack.client().runtime
    key_id, = [k.id for k in orgs.list_api_keys(rt, site.org)]
    orgs.revoke_api_key(rt, key_id)
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_form_posted_without_the_session_token_or_from_another_site_is_refused(site):
    with httpx.Client(base_url=site.base_url, follow_redirects=False) as http:
        planted = http.post("/console/sign-in", data={"api_key": site.key},
                            headers={"Origin": "https://evil.example"})
        assert planted.status_code == 403 and COOKIE not in planted.cookies
    with signed_in_http(site) as (http, token):
        assert http.post("/console/sign-out").status_code == 403
        foreign = http.post("/console/sign-out", data={"csrf_token": token},
                            headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert http.post("/console/sign-out", data={"csrf_token": token}).status_code == 303


def test_the_cookie_holds_a_session_not_the_key_and_sign_out_ends_it_on_the_server(site):
    with signed_in_http(site) as (http, token):
        cookie = http.cookies[COOKIE]
        assert cookie.startswith("dcs_") and site.key not in cookie
        assert http.get("/console/campaigns").status_code == 200
        assert http.post("/console/sign-out", data={"csrf_token": token}).status_code == 303
    # The same cookie, kept by someone who copied it, no longer signs anything in.
    with httpx.Client(base_url=site.base_url, follow_redirects=False,
                      cookies={COOKIE: cookie}) as copied:
        refused = copied.get("/console/campaigns")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/console/sign-in")


def test_a_plain_form_posted_after_the_session_ended_goes_back_to_sign_in(site):
    with signed_in_http(site) as (http, token):
        http.post("/console/sign-out", data={"csrf_token": token})
        late = http.post("/console/dnc", data={"csrf_token": token, "numbers": "+12125550100"},
                         headers={"Referer": f"{site.base_url}/console/dnc"})
        assert late.status_code == 303
        assert late.headers["location"] == "/console/sign-in?next=/console/dnc"


def test_another_organisations_campaign_is_not_found(site, open_page):
    other = site.stack.client(org="default")
    audience = other.create_audience("theirs", [{"phone": "+12125550100"}])
    number = other.add_phone_number("+12125550199")
    theirs = other.create_campaign(campaign_spec(audience.id, name="Theirs",
                                                 phone_number_ids=[number.id]))
    new_org_key(site.stack, "spare")

    page = open_page(site)
    sign_in(page, site.key)
    expect(page.get_by_text("Theirs")).to_have_count(0)
    response = page.goto(f"/console/campaigns/{theirs.id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_odd_tokens_and_numbers_are_refused_not_crashed_on(site):
    client = site.client()
    audience = client.create_audience("people", [{"phone": "+12125550100"}])
    campaign = client.create_campaign(campaign_spec(audience.id, name="Mine"))
    with signed_in_http(site) as (http, token):
        # A CSRF header beyond ASCII: refused like any wrong token (a 403, not a 500).
        odd = http.post("/console/sign-out", headers={"X-CSRF-Token": "é".encode("latin-1") * 64})
        assert odd.status_code == 403
        # "²" is a digit to Python's isdigit, not a number of channels.
        channels = http.post(f"/console/campaigns/{campaign.id}/channels",
                             data={"csrf_token": token, "channels": "²"})
        assert channels.status_code == 422 and "Allocating channels refused" in channels.text
    assert client.get(campaign.id).campaign.channels == 4


def test_the_live_log_of_an_ended_session_is_told_so_and_stops_retrying(site):
    client = site.client()
    audience = client.create_audience("people", [{"phone": "+12125550100"}])
    campaign = client.create_campaign(campaign_spec(audience.id, name="Mine"))
    with signed_in_http(site) as (http, token):
        cookie = http.cookies[COOKIE]
        http.post("/console/sign-out", data={"csrf_token": token})
    with httpx.Client(base_url=site.base_url, cookies={COOKIE: cookie}) as late:
        stream = late.get(f"/console/campaigns/{campaign.id}/stream",
                          headers={"Accept": "text/event-stream"})
    # An error status would have the browser retry for ever: one closing event instead.
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.text.startswith("event: closed\ndata: Your session ended")
