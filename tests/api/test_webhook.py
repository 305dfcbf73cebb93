"""A provider reports an outcome over HTTP: signed with the organisation's webhook
secret, or with its API key; the same result path as ``dialer.call_result``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal

import httpx
import pytest

from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def signature(secret: str, call_id: str, body: bytes, *, at: int | None = None) -> str:
    # What a provider computes (docs/api.md): written out here, not imported.
    at = int(time.time()) if at is None else at
    message = f"{at}.{call_id}.".encode() + body
    return f"t={at},sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def placed_silent_calls(api, key: str, n: int) -> tuple[str, list[str]]:
    """A running campaign whose calls were placed and whose provider stays silent."""
    contacts = ny_contacts([["answered"]] * n, test_provider="silent")
    with api.server.client(key) as c:
        audience = c.post("/v1/audiences", json={"name": "people", "contacts": contacts}).json()
        campaign_id = c.post("/v1/campaigns", json=campaign_spec(
            audience["id"], call_handling={"ring_timeout_s": 60, "max_duration_s": 1800},
        )).json()["id"]
        assert c.post(f"/v1/campaigns/{campaign_id}/start").status_code == 200

        def placed() -> list[str]:
            calls = c.get(f"/v1/campaigns/{campaign_id}/calls").json()
            return [x["call_id"] for x in calls if x["placed_at"]] if len(calls) == n else []

        return campaign_id, wait_for(lambda: len(placed()) == n and placed(), timeout_s=60,
                                     what="the calls placed")


def post(api, call_id: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{api.base_url}/v1/calls/{call_id}/result", content=body,
                      headers={"Content-Type": "application/json", **headers})


def test_a_signed_result_is_applied_once_and_ends_the_call(start_api):
    # Time runs slowly here: no call reaches its deadline while the test posts.
    api = start_api(dialing=True, time_scale=1)
    acme = api.new_org("acme")
    campaign_id, [call_id, other_call] = placed_silent_calls(api, acme.key, 2)
    body = json.dumps({"outcome": "answered", "duration_s": 12.5, "goal_achieved": True,
                       "detail": "from the carrier"}).encode()

    unknown_id = "00000000-0000-4000-8000-000000000000"
    bad = post(api, call_id, body,
               {"X-Dialer-Signature": signature("not the secret", call_id, body)})
    unknown = post(api, unknown_id, body,
                   {"X-Dialer-Signature": signature(acme.secret, unknown_id, body)})
    tampered = post(api, call_id, body.replace(b"12.5", b"99.0"),
                    {"X-Dialer-Signature": signature(acme.secret, call_id, body)})
    # A signature made for one call is no good for another call of the organisation,
    # nor once it is old.
    replayed = post(api, other_call, body,
                    {"X-Dialer-Signature": signature(acme.secret, call_id, body)})
    stale = post(api, call_id, body, {"X-Dialer-Signature": signature(
        acme.secret, call_id, body, at=int(time.time()) - 3600)})
    unsigned = post(api, call_id, body, {})
    for response in (bad, unknown, tampered, replayed, stale, unsigned):
        assert response.status_code == 401, response.text
    # An unknown call and a bad signature look alike: nothing says which ids exist.
    assert bad.json() == unknown.json() == tampered.json() == replayed.json()

    good = post(api, call_id, body, {"X-Dialer-Signature": signature(acme.secret, call_id, body)})
    assert good.status_code == 200 and good.json() == {"applied": True}
    again = post(api, call_id, body,
                 {"X-Dialer-Signature": signature(acme.secret, call_id, body)})
    assert again.status_code == 200 and again.json() == {"applied": False}

    with api.server.client(acme.key) as c:
        calls = {x["call_id"]: x for x in c.get(f"/v1/campaigns/{campaign_id}/calls").json()}
        assert calls[call_id]["outcome"] == "answered" and calls[call_id]["duration_s"] == 12.5
        assert calls[other_call]["outcome"] is None
        # With the organisation's API key instead of a signature, validated like the task.
        invalid = c.post(f"/v1/calls/{other_call}/result",
                         json={"outcome": "exploded", "duration_s": -1, "extra": True})
        assert invalid.status_code == 422
        assert {e["field"] for e in invalid.json()["errors"]} == {"outcome", "duration_s",
                                                                  "extra"}
        keyed = c.post(f"/v1/calls/{other_call}/result", json={"outcome": "busy"})
        assert keyed.status_code == 200 and keyed.json() == {"applied": True}
        detail = c.get(f"/v1/campaigns/{campaign_id}").json()
        assert detail["metrics"]["outcomes"] == {"answered": 1, "busy": 1}


def test_another_organisations_key_cannot_report_its_calls(start_api):
    api = start_api(dialing=True, time_scale=1)
    acme, globex = api.new_org("acme"), api.new_org("globex")
    _, [call_id] = placed_silent_calls(api, acme.key, 1)
    body = json.dumps({"outcome": "answered"}).encode()
    with api.server.client(globex.key) as g:
        foreign = g.post(f"/v1/calls/{call_id}/result", content=body,
                         headers={"Content-Type": "application/json"})
        unknown = g.post("/v1/calls/00000000-0000-4000-8000-000000000000/result",
                         content=body, headers={"Content-Type": "application/json"})
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    # Nor does globex's secret sign for acme's call.
    signed = post(api, call_id, body,
                  {"X-Dialer-Signature": signature(globex.secret, call_id, body)})
    assert signed.status_code == 401
    assert post(api, call_id, body, {"X-Dialer-Signature": signature(acme.secret, call_id, body)}
                ).json() == {"applied": True}


def test_a_result_may_carry_a_recording_a_transcript_and_a_cost(start_api):
    import sqlalchemy as sa

    api = start_api(dialing=True, time_scale=1)
    acme = api.new_org("acme")
    _, [rich, plain, bad] = placed_silent_calls(api, acme.key, 3)
    extras = {"recording_url": "https://media.example.com/r/1.wav",
              "transcript_url": "https://media.example.com/t/1.txt", "cost": 0.0265}
    body = json.dumps({"outcome": "answered", "duration_s": 61, **extras}).encode()
    assert post(api, rich, body, {"X-Dialer-Signature": signature(acme.secret, rich, body)}
                ).json() == {"applied": True}
    with api.server.client(acme.key) as c:
        # An older sender, without them, still works.
        assert c.post(f"/v1/calls/{plain}/result", json={"outcome": "busy"}).json() == {
            "applied": True}
        invalid = c.post(f"/v1/calls/{bad}/result", json={
            "outcome": "answered", "recording_url": "ftp://media.example.com/1.wav",
            "transcript_url": "https://" + "x" * 2000, "cost": -1})
        assert invalid.status_code == 422
        assert {e["field"] for e in invalid.json()["errors"]} == {
            "recording_url", "transcript_url", "cost"}
        # A replay is still a replay, extras or not.
        replay = c.post(f"/v1/calls/{rich}/result", json={
            "outcome": "answered", "recording_url": "https://elsewhere.example.com/x",
            "cost": "9"})
        assert replay.json() == {"applied": False}
    engine = sa.create_engine(api.stack.env["DIALER_DATABASE_URL"])
    with engine.connect() as conn:
        rows = {r.id: tuple(r)[1:] for r in conn.execute(sa.text(
            "SELECT id, outcome, recording_url, transcript_url, cost FROM calls"))}
    engine.dispose()
    assert rows[rich] == ("answered", extras["recording_url"], extras["transcript_url"],
                          Decimal("0.026500"))
    assert rows[plain] == ("busy", None, None, None)
    assert rows[bad] == (None, None, None, None)
