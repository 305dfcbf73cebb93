"""Every call visible over HTTP, on uvicorn's real socket: the lists with their filters
and pages, and the exports streamed (native /v1 and Atoms' /atoms/v1 routes)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.support.call_rows import seed_calls
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

SCRIPTS = [["answered"], ["no_answer", "answered"], ["busy", "no_answer", "answered"]]


def test_a_dialed_campaign_shows_every_call_and_exports_it(start_api):
    api = start_api(dialing=True)
    key, other = api.new_org("acme").key, api.new_org("other").key
    with api.server.client(key) as client, api.server.client(other) as stranger:
        number = client.post("/v1/phone-numbers", json={"number": "+14155550100"})
        assert number.status_code == 201, number.text
        audience = client.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts(SCRIPTS)}).json()
        campaign_id = client.post("/v1/campaigns", json=campaign_spec(
            audience["id"], phone_number_ids=[number.json()["id"]])).json()["id"]
        client.post(f"/v1/campaigns/{campaign_id}/start")
        wait_for(lambda: client.get(f"/v1/campaigns/{campaign_id}").json()["campaign"]["status"]
                 == "completed", timeout_s=120, what="the campaign to complete")

        every = client.get(f"/v1/campaigns/{campaign_id}/calls")
        assert every.headers["x-total-count"] == "6"
        calls = every.json()
        assert calls[0]["from_number"] == "+14155550100", calls[0]
        assert all(c["status"] == "ended" and c["provider_call_id"] and c["from_number"]
                   and c["queued_at"] and c["phone_index"] == 0 and c["execution_number"] == 1
                   for c in calls)
        assert sorted(c["attempt"] for c in calls) == [1, 1, 1, 2, 2, 3]

        answered = client.get(f"/v1/campaigns/{campaign_id}/calls",
                              params={"outcome": "answered", "limit": 2})
        assert answered.headers["x-total-count"] == "3" and len(answered.json()) == 2
        second = client.get(f"/v1/campaigns/{campaign_id}/calls",
                            params={"attempt": 2, "page": 1})
        assert {c["outcome"] for c in second.json()} == {"answered", "no_answer"}
        bad = client.get(f"/v1/campaigns/{campaign_id}/calls",
                         params={"status": "answered", "limit": 0})
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} >= {"status", "limit"}, bad.json()
        people = client.get(f"/v1/campaigns/{campaign_id}/participants",
                            params={"status": "completed", "attempt": 3})
        assert people.headers["x-total-count"] == "1"
        # (answered_phone is written by the result path of the secondary-numbers work.)
        assert {"answered_phone", "phone_index", "last_attempt_at", "name"} <= set(
            people.json()[0])

        with client.stream("GET", f"/v1/campaigns/{campaign_id}/export/calls.csv") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/csv")
            assert f'filename="campaign-{campaign_id}-calls.csv"' in \
                response.headers["content-disposition"]
            text = "".join(response.iter_text())
        assert sorted(r["call_id"] for r in csv.DictReader(io.StringIO(text))) == sorted(
            c["call_id"] for c in calls)

        by_member = client.get(f"/v1/campaigns/{campaign_id}/export/by-audience-member")
        assert [c["attempts"] for c in by_member.json()["contacts"]] == [1, 2, 3]
        as_csv = client.get(f"/v1/campaigns/{campaign_id}/export/by-audience-member",
                            params={"format": "csv"})
        assert [r["last_outcome"] for r in csv.DictReader(io.StringIO(as_csv.text))] == [
            "answered"] * 3

        atoms = client.get(f"/atoms/v1/campaign/{campaign_id}/export/by-audience-member")
        members = atoms.json()
        assert atoms.status_code == 200, atoms.text
        assert (members["totalAudienceMembers"], len(members["data"])) == (3, 3)
        last = members["data"][2]
        assert last["totalAttempts"] == 3 and last["originalCall"]["status"] == "no_answer"
        assert [c["retryAttemptNumber"] for c in last["retryAttempts"]] == [1, 2]
        assert last["retryAttempts"][-1]["status"] == "completed"
        logs = client.get(f"/atoms/v1/campaign/{campaign_id}/logs/export")
        assert logs.status_code == 200 and logs.text == text

        # Another organisation's campaign: not found, as an unknown id.
        for path in ("calls", "participants?page=1", "export/calls.csv",
                     "export/by-audience-member?format=csv"):
            assert stranger.get(f"/v1/campaigns/{campaign_id}/{path}").status_code == 404
        assert stranger.get(
            f"/atoms/v1/campaign/{campaign_id}/export/by-audience-member").status_code == 404
        refused = stranger.get(f"/atoms/v1/campaign/{campaign_id}/logs/export")
        assert refused.status_code == 400 and refused.json()["status"] is False


def _open_cursors(database_url: str) -> int:
    """Server-side cursors another session is reading from right now."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction') "
                "AND (query ILIKE 'FETCH%' OR query ILIKE 'DECLARE%')")).scalar_one())
    finally:
        engine.dispose()


def test_a_call_log_of_20000_calls_streams_over_the_socket(start_api):
    # One export at a time per organisation: a second one while the first streams is
    # refused (429), another organisation's is not.
    api = start_api(extra_env={"DIALER_API_MAX_EXPORTS_PER_ORG": "1"})
    key = api.new_org("acme").key
    other = api.new_org("globex").key
    with api.server.client(other) as client:
        audience = client.post("/v1/audiences", json={
            "name": "few", "contacts": ny_contacts([["answered"]] * 2)}).json()
        other_campaign = client.post("/v1/campaigns",
                                     json=campaign_spec(audience["id"])).json()["id"]
    database_url = api.stack.env["DIALER_DATABASE_URL"]
    with api.server.client(key) as client:
        audience = client.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]] * 2000)}).json()
        campaign_id = client.post("/v1/campaigns", json=campaign_spec(audience["id"])).json()["id"]
        seed_calls(database_url, campaign_id, per_contact=10,
                   t0=datetime(2026, 3, 2, 14, tzinfo=UTC))
        with client.stream("GET", f"/v1/campaigns/{campaign_id}/export/calls.csv") as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers  # no length known in advance
            received, lines, checked = 0, 0, False
            for piece in response.iter_raw():
                received, lines = received + len(piece), lines + piece.count(b"\n")
                if not checked and received > 200_000:
                    # Streamed: rows arrive while the server's cursor is still open in
                    # its transaction (of ~4.7 MB, 200 kB are in); a route that built the
                    # whole file first would have ended its query before the first byte.
                    assert _open_cursors(database_url) == 1
                    busy = client.get(f"/v1/campaigns/{campaign_id}/export/calls.csv")
                    assert busy.status_code == 429 and busy.headers["retry-after"] == "5"
                    with api.server.client(other) as neighbour:
                        assert neighbour.get(f"/v1/campaigns/{other_campaign}/export/"
                                             "calls.csv").status_code == 200
                    checked = True
        assert lines == 20_001 and checked
        assert _open_cursors(database_url) == 0
        page = client.get(f"/v1/campaigns/{campaign_id}/calls",
                          params={"page": 400, "limit": 50})
        assert page.headers["x-total-count"] == "20000" and len(page.json()) == 50
        members = json.loads(client.get(
            f"/v1/campaigns/{campaign_id}/export/by-audience-member").text)
        assert members["total"] == 2000 and members["contacts"][0]["attempts"] == 10
