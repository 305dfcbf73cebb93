"""A failed campaign over HTTP (docs/api.md "Failed campaigns"): its view says why and
when, in /v1 and in Atoms' shape; it cannot be resumed or started again (409 naming its
status); it can be deleted, and is then not found.

The campaign fails on the real stack, as it would in production: the recording provider
refuses every call for good (tests/integration/test_campaign_failed.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_a_failed_campaign_is_shown_refused_and_deleted(start_api):
    api = start_api(dialing=True, extra_env={"DIALER_FAIL_AFTER_PROVIDER_REFUSALS": "3"})
    acme = api.new_org("acme")
    contacts = ny_contacts([["answered"]] * 3, test_provider="refuse", test_refusals=1000,
                           test_refuse_permanently=True,
                           test_refusal="account suspended: caller +1 212 555 0100 unknown")
    with api.server.client(acme.key) as a:
        audience = a.post("/v1/audiences", json={"name": "people", "contacts": contacts})
        assert audience.status_code == 201, audience.text
        created = a.post("/v1/campaigns", json=campaign_spec(audience.json()["id"]))
        assert created.status_code == 201, created.text
        url = f"/v1/campaigns/{created.json()['id']}"
        assert a.post(f"{url}/start").status_code == 200

        wait_for(lambda: a.get(url).json()["campaign"]["status"] == "failed", timeout_s=60,
                 what="the campaign failed")
        campaign = a.get(url).json()["campaign"]
        assert "account suspended" in campaign["error"]
        assert "555" not in campaign["error"]  # phone-like digits masked
        failed_at = datetime.fromisoformat(campaign["failed_at"])
        listed = a.get("/v1/campaigns", params={"status": "failed"}).json()
        assert [(c["id"], c["error"]) for c in listed] == [(campaign["id"], campaign["error"])]

        atoms_url = f"/atoms/v1/campaign/{campaign['id']}"
        atoms = a.get(atoms_url)
        assert atoms.status_code == 200, atoms.text
        shown = atoms.json()["data"]["campaign"]
        assert (shown["status"], shown["error"]) == ("failed", campaign["error"])
        assert datetime.fromisoformat(shown["failedAt"]) == failed_at
        # Atoms answers a forbidden lifecycle change 400 in its envelope (docs/atoms.md).
        refused = a.post(f"{atoms_url}/start")
        assert refused.status_code == 400, refused.text
        assert refused.json() == {"status": False,
                                  "errors": ["cannot start a campaign that is failed"]}

        for command in ("resume", "start"):
            refused = a.post(f"{url}/{command}")
            assert refused.status_code == 409, (command, refused.text)
            [error] = refused.json()["errors"]
            assert error["field"] == "status"
            assert f"cannot {command} a campaign that is failed" in error["message"]
        assert a.get(url).json()["campaign"]["status"] == "failed"

        assert a.delete(url).status_code == 204
        assert a.get(url).status_code == 404
        assert a.get(atoms_url).status_code == 404
