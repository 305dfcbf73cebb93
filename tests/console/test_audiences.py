"""Audiences: a CSV uploaded with a progress bar, the contacts imported and the rejected
rows listed and downloadable; one audience's members searched, paged and removed."""

from __future__ import annotations

import csv
import io
import re

import httpx
from playwright.sync_api import expect

from dialer.api.console.session import COOKIE, csrf_token_for
from tests.console.conftest import sign_in
from tests.support.browser import screenshots
from tests.support.scenario import campaign_spec

CSV = ("phone,name,plan\n"
       "+12125550100,Ann Archer,gold\n"
       "not-a-phone,Bob Baker,silver\n"
       "+12125550101,Cy Cole,gold\n"
       "+12125550100,Ann again,gold\n"
       ",Nobody,\n"
       "+12125550102,Di Dunn,bronze\n")


def _csv_file(text: str = CSV, name: str = "renewals.csv") -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_a_csv_upload_reports_imported_and_rejected_rows_for_download(site, open_page):
    page = open_page(site)
    sign_in(page, site.key)
    page.get_by_role("link", name="Audiences").click()
    expect(page.get_by_role("heading", name="Audiences", level=1)).to_be_visible()
    expect(page.get_by_text("No audiences yet")).to_be_visible()
    bar = page.get_by_role("progressbar", name="Upload progress")
    expect(bar).to_have_attribute("value", "0")
    # console.js moves the bar on htmx's progress events (upload, then answer: it only grows).
    for loaded in (50, 20):
        page.evaluate("""loaded => document.querySelector("form.upload-form").dispatchEvent(
            new CustomEvent("htmx:xhr:progress", {bubbles: true,
                detail: {lengthComputable: true, loaded: loaded, total: 200}}))""", loaded)
    expect(bar).to_have_attribute("value", "25")

    page.get_by_label("Audience name").fill("Spring renewals")
    page.get_by_label("CSV file").set_input_files(files=[_csv_file()])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Imported 3 contacts; 3 rows rejected.")
    expect(page.get_by_role("status")).to_be_focused()  # the result is read out
    expect(bar).to_have_attribute("value", "100")
    for name in ("Rejected rows, scrollable", "Audiences, scrollable"):
        expect(page.get_by_role("region", name=name)).to_have_attribute("tabindex", "0")
    rejected = page.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_role("row")).to_have_count(4)
    expect(rejected.get_by_role("row").nth(1)).to_contain_text("3")
    expect(rejected).to_contain_text("duplicate phone in this audience")
    expect(rejected).to_contain_text("phone: required")
    audiences = page.get_by_role("table", name="Audiences")
    expect(audiences.get_by_role("row").filter(has_text="Spring renewals")).to_contain_text("3")
    screenshots(page, "audiences")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows (CSV)").click()
    assert download.value.suggested_filename == "rejected-rows-Spring-renewals.csv"
    text = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "error", "phone", "name", "plan"]
    assert [(r[0], r[2:]) for r in rows[1:]] == [
        ("3", ["not-a-phone", "Bob Baker", "silver"]),
        ("5", ["+12125550100", "Ann again", "gold"]),
        ("6", ["", "Nobody", ""])]
    assert rows[2][1] == "duplicate phone in this audience"

    # An audience lists the campaigns using it.
    spring = site.client().audiences()[0]
    expect(page.get_by_role("link", name="See its members")).to_have_attribute(
        "href", f"/console/audiences/{spring.id}")
    site.client().create_campaign(campaign_spec(spring.id, name="Spring calls"))
    page.reload()
    expect(page.get_by_role("row").filter(has_text="Spring renewals")).to_contain_text(
        "Spring calls draft")
    page.goto(f"/console/audiences/{spring.id}")
    expect(page.get_by_role("heading", name="Spring renewals", level=1)).to_be_visible()
    members = page.get_by_role("table", name=re.compile("3 members"))
    expect(members.get_by_role("row")).to_have_count(4)
    expect(members).to_contain_text("plan: gold")
    screenshots(page, "audience-members")

    page.get_by_label("Search members").fill("gold")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table", name="2 members matching “gold”")).to_be_visible()

    page.get_by_label("Select +12125550101").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove selected members").click()
    expect(page.get_by_role("status")).to_have_text("Removed 1 member.")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"removed=1$"))
    expect(page.get_by_text("2 members ·")).to_be_visible()
    expect(page.get_by_text("+12125550101")).to_have_count(0)


def test_a_refused_removal_keeps_the_members(site, open_page):
    audience = site.client().create_audience("Few", [{"phone": "+12125550100"}])
    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/audiences/{audience.id}")
    page.get_by_label("Select +12125550100").check()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Remove selected members").click()
    expect(page.get_by_text("1 member ·")).to_be_visible()
    assert site.client().audience(audience.id).count == 1


def test_an_oversized_or_unreadable_file_is_named_and_a_plain_form_post_works(
        start_site, open_page):
    site = start_site(extra_env={"DIALER_API_MAX_CSV_BYTES": "300",
                                 "DIALER_API_MAX_BODY_BYTES": "2048"})
    page = open_page(site)
    sign_in(page, site.key)
    page.goto("/console/audiences")
    page.get_by_label("Audience name").fill("Too big")
    page.get_by_label("CSV file").set_input_files(files=[_csv_file(CSV * 3)])
    page.get_by_role("button", name="Upload").click()
    error = page.get_by_text("CSV file: the CSV is larger than 300 bytes")
    expect(error).to_be_visible()
    expect(page.get_by_role("button", name="Upload")).to_be_focused()
    expect(page.get_by_role("progressbar", name="Upload progress")).to_have_attribute(
        "value", "0")  # a refused upload does not look finished
    expect(page.get_by_label("CSV file")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Audience name")).to_have_value("Too big")

    # Past the cap on any request's body (the route never sees the file) it is the same.
    page.get_by_label("CSV file").set_input_files(files=[_csv_file(CSV * 20)])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("CSV file: the file is larger than the 300 bytes an upload may be")) \
        .to_be_visible()

    page.get_by_label("Audience name").fill("Too big")  # the unread form kept no name
    page.get_by_label("CSV file").set_input_files(files=[_csv_file("name\nAnn\n")])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("CSV file: phone: the CSV header has no 'phone' column")) \
        .to_be_visible()
    assert site.client().audiences() == []

    # Without script the form is a plain multipart POST answered with the whole page.
    with httpx.Client(base_url=site.base_url, follow_redirects=False) as http:
        http.post("/console/sign-in", data={"api_key": site.key})
        token = csrf_token_for(http.cookies[COOKIE])
        answer = http.post("/console/audiences", data={"csrf_token": token, "name": "Plain"},
                           files={"file": ("plain.csv", CSV.encode(), "text/csv")})
        assert answer.status_code == 200
        assert "Imported 3 contacts; 3 rows rejected." in answer.text
        refused = http.post("/console/audiences", data={"csrf_token": token, "name": ""},
                            files={"file": ("plain.csv", b"phone\n", "text/csv")})
        assert refused.status_code == 422
        assert "Give the audience a name." in refused.text


def test_pages_past_the_end_of_members_and_the_dnc_list_offer_the_first(site, open_page):
    client = site.client()
    audience = client.create_audience("Few", [{"phone": "+12125550100"}])
    client.add_dnc(["+12125550177"])
    page = open_page(site)
    sign_in(page, site.key)
    page.goto(f"/console/audiences/{audience.id}?page=5")
    expect(page.get_by_text("Nothing on this page.")).to_be_visible()
    page.get_by_role("link", name="Go to the first page").click()
    expect(page.get_by_label("Select +12125550100")).to_be_visible()
    page.goto("/console/dnc?page=7")
    expect(page.get_by_text("Nothing on this page.")).to_be_visible()
    page.get_by_role("link", name="Go to the first page").click()
    expect(page.get_by_role("button", name="Remove +12125550177")).to_be_visible()
