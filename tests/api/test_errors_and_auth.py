"""The error vocabulary over a real socket: 401, 404 (unknown and foreign alike), 422
naming every field, 400, 409, 413 for bodies and CSVs; and /healthz."""

from __future__ import annotations

import httpx
import pytest

from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def fields(response: httpx.Response) -> set[str | None]:
    return {e["field"] for e in response.json()["errors"]}


def test_healthz_needs_no_key_and_names_both_services(api):
    response = httpx.get(f"{api.base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": True, "redis": True}


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer dk_wrong_key"}, {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer"},
])
def test_a_missing_or_wrong_key_is_401_with_the_bearer_challenge(api, headers):
    api.new_org("acme")
    for method, path in (("GET", "/v1/campaigns"), ("POST", "/v1/dnc"),
                         ("GET", "/v1/campaigns/x/stream"), ("GET", "/v1/phone-numbers")):
        response = httpx.request(method, f"{api.base_url}{path}", headers=headers, json={})
        assert response.status_code == 401, (path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert fields(response) == {"authorization"}


def test_another_organisations_ids_answer_exactly_as_unknown_ones(api):
    acme, globex = api.new_org("acme"), api.new_org("globex")
    with api.server.client(acme.key) as a, api.server.client(globex.key) as g:
        audience = a.post("/v1/audiences", json={
            "name": "acme people", "contacts": ny_contacts([["answered"]])}).json()
        campaign = a.post("/v1/campaigns", json=campaign_spec(audience["id"])).json()
        unknown = "00000000-0000-4000-8000-000000000000"
        for path in ("", "/participants", "/calls", "/events", "/skips", "/forecast",
                     "/readiness", "/stream"):
            foreign = g.get(f"/v1/campaigns/{campaign['id']}{path}")
            missing = g.get(f"/v1/campaigns/{unknown}{path}")
            assert foreign.status_code == missing.status_code == 404, path
            assert foreign.json() == missing.json()
        for verb in ("start", "pause", "resume", "stop", "reset-breaker"):
            assert g.post(f"/v1/campaigns/{campaign['id']}/{verb}").status_code == 404
        assert g.put(f"/v1/campaigns/{campaign['id']}/channels",
                     json={"channels": 2}).status_code == 404
        assert g.delete(f"/v1/campaigns/{campaign['id']}").status_code == 404
        # Nor can the other organisation build on acme's audience.
        stolen = g.post("/v1/campaigns", json=campaign_spec(audience["id"]))
        assert stolen.status_code == 422 and "audience_id" in fields(stolen)
        assert g.get("/v1/campaigns").json() == [] and g.get("/v1/audiences").json() == []
        assert [c["id"] for c in a.get("/v1/campaigns").json()] == [campaign["id"]]
        # Still acme's, untouched.
        assert a.get(f"/v1/campaigns/{campaign['id']}").json()["campaign"]["status"] == "draft"


def test_422_lists_every_offending_field_as_a_dotted_path(api):
    key = api.new_org("acme").key
    with api.server.client(key) as c:
        response = c.post("/v1/campaigns", json={
            "name": "", "audience_id": "00000000-0000-4000-8000-000000000000",
            "retry": {"max_retries": 99}, "pacing": {"channels": -1},
            "call_handling": {"ring_timeout_s": 1}, "phone_number_ids": ["nope"]})
        assert response.status_code == 422
        assert {"name", "retry.max_retries", "pacing.channels", "call_handling.ring_timeout_s",
                "audience_id"} <= fields(response)
        # FastAPI's own validation, reshaped alike.
        response = c.post("/v1/phone-numbers", json={"cps": -1, "extra": 1})
        assert response.status_code == 422
        assert fields(response) == {"number", "cps", "extra"}
        response = c.post("/v1/dnc", json={"numbers": ["+12125550100", "nonsense", "12"]})
        assert response.status_code == 422
        assert fields(response) == {"numbers[1]", "numbers[2]"}
        response = c.get("/v1/campaigns", params={"status": "sleeping", "sort": "colour"})
        assert response.status_code == 422 and fields(response) == {"status", "sort"}


def test_a_nul_character_anywhere_is_a_field_error_not_a_500(api):
    # PostgreSQL stores no NUL (text or jsonb): found by schemathesis as a 500.
    key = api.new_org("acme").key
    with api.server.client(key) as c:
        response = c.post("/v1/audiences", json={"name": "a\u0000b", "contacts": []})
        assert response.status_code == 422 and fields(response) == {"name"}
        response = c.post("/v1/audiences", data={"name": "a\x00b"},
                          files={"file": ("a.csv", "phone\n+12125550100\n", "text/csv")})
        assert response.status_code == 422 and fields(response) == {"name"}
        audience = c.post("/v1/audiences", json={"name": "ok", "contacts": []}).json()
        response = c.post("/v1/campaigns", json=campaign_spec(
            audience["id"], name="x\u0000", description="\u0000",
            schedule={"holidays": ["2026-12-25\u0000"]}))
        assert response.status_code == 422
        assert fields(response) == {"name", "description", "schedule.holidays[0]"}
        for path, body in (("/v1/dnc", {"numbers": ["+1212555\u00000100"]}),
                           ("/v1/phone-numbers", {"number": "+1212555\u00000100"})):
            response = c.post(path, json=body)
            assert response.status_code == 422, (path, response.text)
        assert c.get("/v1/campaigns").json() == [] and c.get("/v1/dnc").json() == []


def test_malformed_json_is_400(api):
    key = api.new_org("acme").key
    with api.server.client(key) as c:
        for path in ("/v1/dnc", "/v1/campaigns", "/v1/audiences", "/v1/phone-numbers"):
            response = c.post(path, content=b'{"numbers": [',
                              headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (path, response.text)
            assert response.json() == {"errors": [{"field": "body",
                                                   "message": "malformed JSON"}]}


def test_a_forbidden_transition_is_409_and_changes_nothing(api):
    key = api.new_org("acme").key
    with api.server.client(key) as c:
        audience = c.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]])}).json()
        campaign = c.post("/v1/campaigns", json=campaign_spec(audience["id"]))
        assert campaign.status_code == 201
        campaign_id = campaign.json()["id"]
        for verb in ("pause", "resume"):
            response = c.post(f"/v1/campaigns/{campaign_id}/{verb}")
            assert response.status_code == 409, response.text
            assert fields(response) == {"status"}
        assert c.post(f"/v1/campaigns/{campaign_id}/stop").json()["status"] == "stopped"
        assert c.post(f"/v1/campaigns/{campaign_id}/start").status_code == 409
        assert c.delete(f"/v1/campaigns/{campaign_id}").status_code == 204
        assert c.get(f"/v1/campaigns/{campaign_id}").status_code == 404


def test_oversized_bodies_csvs_and_audiences_are_413(start_api):
    api = start_api(extra_env={"DIALER_API_MAX_BODY_BYTES": "4096",
                               "DIALER_API_MAX_CSV_BYTES": "2000",
                               "DIALER_API_MAX_AUDIENCE_MEMBERS": "3"})
    key = api.new_org("acme").key
    with api.server.client(key) as c:
        big = {"numbers": [f"+1212555{i:04d}" for i in range(400)]}
        response = c.post("/v1/dnc", json=big)
        assert response.status_code == 413 and fields(response) == {"body"}
        # Chunked, without a Content-Length: cut off as it passes the limit.
        response = c.post("/v1/dnc", content=iter([b'{"numbers": ["'] + [b"1" * 1000] * 10),
                          headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        rows = "".join(f"+1212555{i:04d},name {i}\n" for i in range(150))
        response = c.post("/v1/audiences", data={"name": "big"},
                          files={"file": ("big.csv", "phone,name\n" + rows, "text/csv")})
        assert response.status_code == 413 and fields(response) == {"file"}
        # A file past the body's own limit is cut off before the form is parsed.
        huge = "phone\n" + "".join(f"+1212555{i:04d}\n" for i in range(600))
        response = c.post("/v1/audiences", data={"name": "huge"},
                          files={"file": ("huge.csv", huge, "text/csv")})
        assert response.status_code == 413 and fields(response) == {"body"}
        four = "phone\n" + "".join(f"+1212555{i:04d}\n" for i in range(4))
        response = c.post("/v1/audiences", data={"name": "four"},
                          files={"file": ("four.csv", four, "text/csv")})
        assert response.status_code == 413 and fields(response) == {"file"}
        response = c.post("/v1/audiences", json={
            "name": "four", "contacts": [{"phone": f"+1212555{i:04d}"} for i in range(4)]})
        assert response.status_code == 413 and fields(response) == {"contacts"}
        # Nothing half-written.
        assert c.get("/v1/audiences").json() == [] and c.get("/v1/dnc").json() == []
        three = "phone\n" + "".join(f"+1212555{i:04d}\n" for i in range(3))
        response = c.post("/v1/audiences", data={"name": "three"},
                          files={"file": ("three.csv", three, "text/csv")})
        assert response.status_code == 201 and response.json()["count"] == 3


def test_csv_upload_reports_bad_rows_and_keeps_good_ones(api):
    key = api.new_org("acme").key
    with api.server.client(key) as c:
        csv_text = "phone,name,plan\n+12125550001,Ada,gold\nnot-a-number,Bob,\n+12125550002,Cy,\n"
        response = c.post("/v1/audiences", data={"name": "csv people"},
                          files={"file": ("people.csv", csv_text, "text/csv")})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["count"] == 2 and [r["index"] for r in body["rejected"]] == [3]
        response = c.post("/v1/audiences", data={"name": ""})
        assert response.status_code == 422 and fields(response) == {"name", "file"}
