"""DELETE /v1/phone-numbers/{id} over a real socket: 204, then gone (404); another
organisation's or an unknown id 404; 409 naming `id` while a live campaign lists it.
The Atoms list of phone numbers leaves a removed one out too."""

from __future__ import annotations

import uuid

import pytest

from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def test_delete_removes_the_caller_id_unless_a_live_campaign_lists_it(api):
    acme, globex = api.new_org("acme"), api.new_org("globex")
    with api.server.client(acme.key) as a, api.server.client(globex.key) as g:
        number = a.post("/v1/phone-numbers", json={"number": "+14155550100"}).json()
        theirs = g.post("/v1/phone-numbers", json={"number": "+14155550100"}).json()
        audience = a.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]])}).json()
        campaign = a.post("/v1/campaigns", json=campaign_spec(
            audience["id"], phone_number_ids=[number["id"]])).json()
        assert a.post(f"/v1/campaigns/{campaign['id']}/start").status_code == 200
        url = f"/v1/phone-numbers/{number['id']}"

        for unknown in (theirs["id"], str(uuid.uuid4()), "nope"):
            missing = a.delete(f"/v1/phone-numbers/{unknown}")
            assert missing.status_code == 404, missing.text
            assert missing.json()["errors"][0]["field"] is None

        refused = a.delete(url)
        assert refused.status_code == 409, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "id" and campaign["id"] in error["message"]

        assert a.post(f"/v1/campaigns/{campaign['id']}/stop").status_code == 200
        removed = a.delete(url)
        assert removed.status_code == 204 and removed.content == b""
        assert a.get("/v1/phone-numbers").json() == []
        assert a.get("/atoms/v1/product/phone-numbers").json()["data"] == []
        assert a.delete(url).status_code == 404  # gone
        assert [n["id"] for n in g.get("/v1/phone-numbers").json()] == [theirs["id"]]

        reused = a.post("/v1/campaigns", json=campaign_spec(
            audience["id"], phone_number_ids=[number["id"]]))
        assert reused.status_code == 422
        assert reused.json()["errors"][0]["field"] == "phone_number_ids[0]"

        again = a.post("/v1/phone-numbers", json={"number": "+1 415 555 0100"})
        assert again.status_code == 201 and again.json()["id"] == number["id"]
