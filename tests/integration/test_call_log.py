"""Every call visible (issue 14): each call's and participant's details, filtered pages of
both, and the exports (per contact, JSON and CSV; the call log, CSV), streamed.

Calls are written straight into PostgreSQL (tests/support/call_rows.py): these reads
only read rows, so a worker would add nothing but time. The API test dials for real."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from dialer.errors import NotFound, ValidationError
from tests.support.call_rows import OUTCOMES, seed_calls
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SECONDARY = "+12125550999"


def _campaign(client, n: int, **contact_extra):
    contacts = ny_contacts([["answered"]] * n)
    contacts[0].update(contact_extra)
    audience = client.create_audience("people", contacts)
    assert not audience.rejected
    return client.create_campaign(campaign_spec(audience.id))


def test_every_call_and_participant_shows_its_details(two_orgs, database_url):
    default, acme = two_orgs
    campaign = _campaign(default, 3, name="=HYPERLINK(\"x\")", secondary_phones=[SECONDARY])
    first = default.participants(campaign.id)[0].contact_id
    seed_calls(database_url, campaign.id, per_contact=2, t0=T0, to_secondary={first: SECONDARY})

    calls = default.calls(campaign.id)
    assert len(calls) == 6
    call = calls[0]
    assert (call.status, call.outcome, call.attempt, call.cycle, call.execution_number) == (
        "ended", OUTCOMES[1], 1, 0, 1)
    assert (call.goal_achieved, call.detail, call.from_number) == (False, "hangup",
                                                                   "+14155550100")
    assert call.provider_call_id.startswith("prov-") and call.duration_s == 30.5
    assert call.queued_at == call.placed_at and call.ended_at - call.placed_at == timedelta(
        seconds=31)
    assert call.cost == pytest.approx(0.012345) and call.recording_url.startswith("https://")
    assert call.transcript_url is None
    # The number dialed and which of the contact's it is: the primary, or the secondary.
    assert [(c.phone, c.phone_index) for c in calls if c.contact_id == first] == [
        (call.phone, 0), (SECONDARY, 1)]
    dumped = call.model_dump(mode="json")
    assert {"call_id", "contact_id", "phone", "from_number", "attempt", "placed_at",
            "ended_at", "outcome", "duration_s"} <= set(dumped)
    assert isinstance(dumped["cost"], float)

    person = default.participants(campaign.id)[0]
    assert (person.status, person.attempts, person.last_outcome, person.phone_index) == (
        "failed", 2, OUTCOMES[2], 0)
    assert person.name == "=HYPERLINK(\"x\")" and person.last_attempt_at is not None
    assert person.answered_phone is None and person.skip_reason is None
    assert person.phone_attempts == 0  # seeded calls leave it; the result path counts it

    for read in (acme.calls, acme.participants, acme.call_page, acme.participant_page,
                 acme.export_calls, acme.export_contacts):
        with pytest.raises(NotFound):
            read(campaign.id)


def test_pages_filter_count_and_refuse_bad_filters_all_at_once(two_orgs, database_url):
    default, _ = two_orgs
    campaign = _campaign(default, 10)
    seed_calls(database_url, campaign.id, per_contact=5, t0=T0)
    every = default.calls(campaign.id)

    page = default.call_page(campaign.id, page=2, limit=20)
    assert (page.total, page.page, page.limit) == (50, 2, 20)
    assert [c.call_id for c in page.items] == [c.call_id for c in every[20:40]]
    assert default.call_page(campaign.id, page=4, limit=20).items == []

    answered = default.call_page(campaign.id, outcome="answered", limit=100)
    assert answered.total == 10 and {c.attempt for c in answered.items} == {4}
    third = default.call_page(campaign.id, attempt=3, status="ended", limit=100)
    assert third.total == 10 and all(c.attempt == 3 for c in third.items)
    since, until = every[10].queued_at, every[15].queued_at
    window = default.call_page(campaign.id, since=since, until=until.isoformat(), limit=100)
    assert [c.call_id for c in window.items] == [c.call_id for c in every[10:15]]
    assert default.call_page(campaign.id, status="queued").total == 0

    people = default.participant_page(campaign.id, page=1, limit=4, status="failed",
                                      outcome=OUTCOMES[0], attempt=5)
    assert (people.total, len(people.items)) == (10, 4)
    contact_ids = [p.contact_id for p in default.participant_page(campaign.id, limit=100).items]
    assert contact_ids == sorted(contact_ids)
    last = max(p.last_attempt_at for p in default.participants(campaign.id))
    assert default.participant_page(campaign.id, since=last).total == 1
    assert default.participant_page(campaign.id, until=last).total == 9
    assert default.participant_page(campaign.id, status="pending").total == 0

    with pytest.raises(ValidationError) as bad:
        default.call_page(campaign.id, page=0, limit=1001, status="answered", outcome="maybe",
                          attempt=0, since="yesterday", until=datetime(2026, 3, 2))
    assert set(bad.value.fields) == {"page", "limit", "status", "outcome", "attempt",
                                     "since", "until"}
    with pytest.raises(ValidationError) as bad:
        default.participant_page(campaign.id, status="ended", since=T0, until=T0)
    assert set(bad.value.fields) == {"status", "until"}
    # Beyond the column's range: a field error, not the database's overflow (a 500).
    for read in (default.call_page, default.participant_page):
        with pytest.raises(ValidationError) as bad:
            read(campaign.id, attempt=2**31)
        assert set(bad.value.fields) == {"attempt"}


def test_exports_per_contact_and_per_call_are_safe_csv_and_json(two_orgs, database_url):
    default, _ = two_orgs
    campaign = _campaign(default, 3, name="=cmd|' /C calc'!A0", secondary_phones=[SECONDARY])
    seed_calls(database_url, campaign.id, per_contact=3, t0=T0)

    log = list(csv.DictReader(io.StringIO("".join(default.export_calls(campaign.id)))))
    calls = default.calls(campaign.id)
    assert [r["call_id"] for r in log] == [c.call_id for c in calls]
    assert log[0]["phone"] == calls[0].phone and log[0]["phone"].startswith("+1212")
    assert (log[0]["cost"], log[0]["goal_achieved"], log[0]["transcript_url"]) == (
        "0.012345", "false", "")
    assert log[0]["phone_index"] == "0" and log[0]["outcome"] == OUTCOMES[1]

    text = "".join(default.export_contacts(campaign.id, format="csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    # A formula in a name is neutralised; the phone numbers (+...) are left as they are.
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0" and rows[0]["phone"].startswith("+1212")
    assert (rows[0]["attempts"], rows[0]["status"], rows[0]["last_outcome"]) == (
        "3", "failed", OUTCOMES[3])
    assert (rows[0]["total_duration_s"], rows[0]["total_cost"], rows[0]["goal_achieved"]) == (
        "91.5", "0.037035", "true")

    document = json.loads("".join(default.export_contacts(campaign.id, format="json")))
    assert (document["campaign_id"], document["total"]) == (campaign.id, 3)
    first = document["contacts"][0]
    assert first["name"] == "=cmd|' /C calc'!A0"  # JSON is data, not a spreadsheet
    assert (first["attempts"], first["total_cost"], first["goal_achieved"]) == (
        3, pytest.approx(0.037035), True)
    assert "calls" not in first

    results = list(default.contact_results(campaign.id, with_calls=True))
    assert [c.attempt for c in results[0].calls] == [1, 2, 3]
    assert results[0].calls[0].call_id == calls[0].call_id

    # A contact never called: no attempts, nothing summed (null, an empty CSV cell).
    untouched = _campaign(default, 1)
    alone = json.loads("".join(default.export_contacts(untouched.id)))["contacts"][0]
    assert (alone["attempts"], alone["total_cost"], alone["goal_achieved"]) == (0, None, None)
    assert "".join(default.export_calls(untouched.id)).count("\n") == 1  # the header

    with pytest.raises(ValidationError) as bad:
        default.export_contacts(campaign.id, format="xlsx")
    assert bad.value.fields == ["format"]


def test_an_export_of_20000_calls_streams_in_bounded_memory(two_orgs, database_url):
    default, _ = two_orgs
    campaign = _campaign(default, 2000)
    seed_calls(database_url, campaign.id, per_contact=10, t0=T0)

    tracemalloc.start()
    try:
        chunks = rows = size = 0
        for chunk in default.export_calls(campaign.id):
            chunks, size, rows = chunks + 1, size + len(chunk), rows + chunk.count("\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 20_001 and chunks > 10
    # The export is ~4.7 MB of text; streamed, the peak is about one chunk (~1 MB, mostly
    # its rows). Read all at once (or in chunks of 5,000 rows) it is several times the
    # whole text: 14 MB at 5,000, 33 MB at 30,000, measured.
    assert peak < size / 3, (peak, size)


def test_the_command_line_lists_pages_and_exports(cli_environment, database_url, tmp_path):
    from tests.support.cli import run

    client = cli_environment("2026-03-02T09:00:00-05:00")
    campaign = _campaign(client, 3)
    seed_calls(database_url, campaign.id, per_contact=2, t0=T0)
    phone = client.participants(campaign.id)[0].phone

    code, out, err = run("campaign", "calls", campaign.id[:8], "--attempt", "2", "--json")
    assert code == 0, err
    page = json.loads(out)
    assert page["total"] == 3 and {c["attempt"] for c in page["items"]} == {2}
    assert phone not in out and page["items"][0]["phone"].endswith("****")
    code, out, err = run("campaign", "participants", campaign.id, "--status", "failed",
                         "--limit", "2")
    assert code == 0 and "page 1, 2 of 3" in out, (out, err)
    code, out, err = run("campaign", "participants", campaign.id, "--json", "--full")
    assert code == 0 and json.loads(out)["items"][0]["phone"] == phone, err
    code, _, err = run("campaign", "calls", campaign.id, "--status", "nope", "--page", "0")
    assert code == 2 and "status" in err and "page" in err

    target = tmp_path / "calls.csv"
    code, out, err = run("campaign", "export", campaign.id, "--by", "call", "-o", str(target))
    assert code == 0, err
    assert target.read_text().count("\n") == 7 and target.read_bytes().count(b"\r\n") == 7
    code, out, err = run("campaign", "export", campaign.id, "--format", "json")
    assert code == 0 and json.loads(out)["total"] == 3, err
    code, _, err = run("campaign", "export", campaign.id, "--by", "call", "--format", "json")
    assert code == 2 and "format" in err
