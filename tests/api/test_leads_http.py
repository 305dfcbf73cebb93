"""Leads over HTTP (/v1 and /atoms/v1): members listed, added (JSON and CSV) and removed
while a campaign uses the audience, contacts added through a campaign, participants
requeued and closed; the error vocabulary of each."""

from __future__ import annotations

import httpx
import pytest

from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def fields(response: httpx.Response) -> set[str | None]:
    return {e["field"] for e in response.json()["errors"]}


def test_leads_routes_on_v1(api):
    acme, globex = api.new_org("acme"), api.new_org("globex")
    with api.server.client(acme.key) as a, api.server.client(globex.key) as g:
        audience = a.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]] * 3)}).json()
        aid = audience["id"]
        campaign = a.post("/v1/campaigns", json=campaign_spec(aid)).json()
        cid = campaign["id"]
        assert a.post(f"/v1/campaigns/{cid}/start").status_code == 200

        page = a.get(f"/v1/audiences/{aid}/members", params={"page": 2, "limit": 2}).json()
        assert page["total"] == 3 and [m["name"] for m in page["members"]] == ["c2"]
        found = a.get(f"/v1/audiences/{aid}/members", params={"search": "C1"}).json()
        assert found["total"] == 1 and found["members"][0]["name"] == "c1"
        assert a.get(f"/v1/audiences/{aid}/members",
                     params={"limit": 0}).status_code == 422

        added = a.post(f"/v1/audiences/{aid}/members", json={
            "contacts": [*ny_contacts([["answered"]], start=10), {"phone": "+12125550000"}]})
        assert added.status_code == 200, added.text
        assert added.json()["count"] == 1
        assert [r["index"] for r in added.json()["rejected"]] == [1]
        upload = a.post(f"/v1/audiences/{aid}/members", files={
            "file": ("more.csv", b"phone,name\n+12125550011,csv one\nnope,x\n", "text/csv")})
        assert upload.status_code == 200, upload.text
        assert upload.json()["count"] == 1 and upload.json()["rejected"][0]["index"] == 3
        through = a.post(f"/v1/campaigns/{cid}/contacts",
                         json={"contacts": ny_contacts([["answered"]], start=12)})
        assert through.json()["count"] == 1
        participants = a.get(f"/v1/campaigns/{cid}/participants").json()
        assert len(participants) == 6
        events = [e["action"] for e in a.get(f"/v1/campaigns/{cid}/events").json()]
        assert events.count("contacts_added") == 3

        ids = sorted(p["contact_id"] for p in participants)
        removed = a.request("DELETE", f"/v1/audiences/{aid}/members",
                            json={"member_ids": [ids[-1], 99999]})
        assert removed.json() == {"count": 1}
        assert a.get(f"/v1/audiences/{aid}/members").json()["total"] == 5

        closed = a.post(f"/v1/campaigns/{cid}/participants/close",
                        json={"contact_ids": ids[:2]})
        assert closed.status_code == 200 and closed.json() == {"count": 2}
        requeued = a.post(f"/v1/campaigns/{cid}/participants/requeue",
                          json={"contact_ids": [ids[0]]})
        assert requeued.json() == {"count": 1}
        gone = a.post(f"/v1/campaigns/{cid}/participants/requeue",
                      json={"contact_ids": [ids[-1]]})
        assert gone.status_code == 409
        unknown = a.post(f"/v1/campaigns/{cid}/participants/close",
                         json={"contact_ids": [123456]})
        assert unknown.status_code == 422 and fields(unknown) == {"contact_ids"}
        empty = a.post(f"/v1/campaigns/{cid}/participants/close", json={"contact_ids": []})
        assert empty.status_code == 422 and fields(empty) == {"contact_ids"}
        sources = {e["source"] for e in a.get(f"/v1/campaigns/{cid}/events").json()
                   if e["action"] in ("requeued", "closed", "contacts_removed")}
        assert sources == {"api"}

        # Another organisation's ids answer as unknown ones.
        for method, path, body in (
                ("GET", f"/v1/audiences/{aid}/members", None),
                ("POST", f"/v1/audiences/{aid}/members", {"contacts": []}),
                ("DELETE", f"/v1/audiences/{aid}/members", {"member_ids": [ids[0]]}),
                ("POST", f"/v1/campaigns/{cid}/contacts", {"contacts": []}),
                ("POST", f"/v1/campaigns/{cid}/participants/requeue",
                 {"contact_ids": [ids[0]]}),
                ("POST", f"/v1/campaigns/{cid}/participants/close",
                 {"contact_ids": [ids[0]]})):
            assert g.request(method, path, json=body).status_code == 404, path

        assert a.post(f"/v1/campaigns/{cid}/stop").status_code == 200
        late = a.post(f"/v1/campaigns/{cid}/contacts",
                      json={"contacts": ny_contacts([["answered"]], start=20)})
        assert late.status_code == 409
        assert a.post(f"/v1/campaigns/{cid}/participants/requeue",
                      json={"contact_ids": [ids[0]]}).status_code == 409


def test_atoms_members_follow_the_new_semantics(api):
    acme = api.new_org("acme")
    with api.server.client(acme.key) as a:
        audience = a.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]] * 2)}).json()
        aid = audience["id"]
        cid = a.post("/v1/campaigns", json=campaign_spec(aid)).json()["id"]
        a.post(f"/v1/campaigns/{cid}/start")
        first = a.get(f"/v1/audiences/{aid}/members").json()["members"][0]["id"]
        # Removing members of an audience a running campaign uses is allowed now.
        gone = a.request("DELETE", f"/atoms/v1/audience/{aid}/members",
                             json={"memberIds": [str(first)]})
        assert gone.status_code == 200 and gone.json()["data"] == {"deletedCount": 1}
        added = a.post(f"/atoms/v1/audience/{aid}/members",
                           json={"members": [{"phoneNumber": "+12125550000"},
                                             {"phoneNumber": "+12125550042"}]})
        assert added.status_code == 200, added.text
        assert added.json()["data"][0]["data"]["added"] == 2  # the removed one is back
        statuses = {p["contact_id"]: p["status"]
                    for p in a.get(f"/v1/campaigns/{cid}/participants").json()}
        assert len(statuses) == 3 and statuses[first] == "pending"
