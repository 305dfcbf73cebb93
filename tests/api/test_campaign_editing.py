"""PATCH /v1/campaigns/{id} over a real socket, and the agent a start needs (409 naming
agent_id). The Atoms API has no campaign update: /atoms/v1 gains none."""

from __future__ import annotations

import pytest

from dialer.lifecycle import NO_AGENT
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def test_patch_changes_what_the_status_allows_and_names_the_rest(api):
    acme, globex = api.new_org("acme"), api.new_org("globex")
    with api.server.client(acme.key) as a, api.server.client(globex.key) as g:
        audience = a.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]] * 2)}).json()
        campaign = a.post("/v1/campaigns", json=campaign_spec(audience["id"],
                                                                agent_id=None)).json()
        url = f"/v1/campaigns/{campaign['id']}"

        refused = a.post(f"{url}/start")
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["field"] == "agent_id"
        assert NO_AGENT in refused.json()["errors"][0]["message"]
        readiness = {c["name"]: c for c in a.get(f"{url}/readiness").json()["checks"]}
        assert readiness["agent"] == {"name": "agent", "ok": False, "detail": NO_AGENT}

        changed = a.patch(url, json={"agent_id": "agent-3", "pacing": {"channels": 2},
                                     "description": "spring"})
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["agent_id"], body["channels"], body["description"]) == (
            "agent-3", 2, "spring")
        assert a.post(f"{url}/start").status_code == 200

        invalid = a.patch(url, json={"name": "late", "pacing": {"calls_per_minute": 0}})
        assert invalid.status_code == 422
        assert invalid.json()["errors"] == [
            {"field": "name", "message": "cannot change while running"},
            {"field": "pacing.calls_per_minute",
             "message": "Input should be greater than or equal to 1"}]
        assert a.patch(url, json=["not", "a", "patch"]).status_code == 422
        assert a.patch(url, content=b"{", headers={
            "content-type": "application/json"}).status_code in (400, 422)

        foreign = g.patch(url, json={"name": "mine"})
        unknown = g.patch("/v1/campaigns/00000000-0000-4000-8000-000000000000",
                          json={"name": "mine"})
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json() == unknown.json()

        events = [e["action"] for e in a.get(f"{url}/events").json()]
        assert events == ["created", "updated", "started"]
        assert a.get(url).json()["campaign"]["name"] == campaign["name"]
