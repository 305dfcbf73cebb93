"""The campaign's event stream over a real socket while a real worker and beat dial."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from dialer.service import orgs
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.sse import Event, read_events

pytestmark = pytest.mark.integration

SCRIPTS = [["answered"], ["no_answer", "answered"], ["busy", "answered"], ["voicemail"]]


def stream(client, campaign_id: str, *, last_event_id: str | None = None,
           stop_after: str | None = None) -> list[Event]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    out: list[Event] = []
    with client.stream("GET", f"/v1/campaigns/{campaign_id}/stream",
                       params={"until_finished": "true"}, headers=headers,
                       timeout=120) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in read_events(response):
            out.append(event)
            if event.event == "end" or event.event == stop_after:
                break
    return out


def launch(client, contacts, *, dnc: list[str]) -> str:
    assert client.post("/v1/dnc", json={"numbers": dnc}).status_code == 200
    audience = client.post("/v1/audiences", json={"name": "people", "contacts": contacts})
    assert audience.status_code == 201 and not audience.json()["rejected"]
    campaign = client.post("/v1/campaigns", json=campaign_spec(audience.json()["id"]))
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    assert client.post(f"/v1/campaigns/{campaign_id}/start").json()["status"] == "running"
    return campaign_id


def test_a_campaign_runs_to_completed_as_the_stream_shows_it(start_api):
    api = start_api(dialing=True, extra_env={"DIALER_API_STREAM_METRICS_S": "1.0"})
    key = api.new_org("acme").key
    contacts = ny_contacts([*SCRIPTS, ["answered"]])
    with api.server.client(key) as client:
        campaign_id = launch(client, contacts, dnc=[contacts[-1]["phone"]])
        events = stream(client, campaign_id)

        kinds = Counter(e.event for e in events)
        assert events[-1].event == "end" and events[-1].data == {"reason": "completed"}
        lifecycle = [e.data["action"] for e in events if e.event == "lifecycle"]
        assert lifecycle[:2] == ["created", "started"] and lifecycle[-1] == "completed"
        # Every call, once: the stream agrees with the calls the API lists.
        calls = client.get(f"/v1/campaigns/{campaign_id}/calls").json()
        assert len(calls) == 6
        placed = [e.data for e in events if e.event == "placed"]
        outcomes = [e.data for e in events if e.event == "outcome"]
        assert sorted(p["call_id"] for p in placed) == sorted(c["call_id"] for c in calls)
        assert sorted(o["call_id"] for o in outcomes) == sorted(c["call_id"] for c in calls)
        assert Counter(o["outcome"] for o in outcomes) == Counter(
            {"answered": 3, "no_answer": 1, "busy": 1, "voicemail": 1})
        retries = [e.data for e in events if e.event == "retry_scheduled"]
        assert sorted(r["attempt"] for r in retries) == [1, 1] and kinds["retry_scheduled"] == 2
        assert all(r["next_attempt_at"] for r in retries)
        skipped = [e.data for e in events if e.event == "skipped"]
        assert skipped and {s["reason"] for s in skipped} == {"dnc"}
        assert {s["phone"] for s in skipped} == {contacts[-1]["phone"]}
        # Each call's outcome comes after its placement.
        order = {(e.event, e.data.get("call_id")): i for i, e in enumerate(events)}
        assert all(order[("placed", c)] < order[("outcome", c)] for c in (o["call_id"]
                                                                          for o in outcomes))
        # Metrics: one snapshot at least every period (plus a poll), the last one final.
        metrics = [e for e in events if e.event == "metrics"]
        assert metrics[-1].data["status"] == "completed"
        assert metrics[-1].data["metrics"]["calls_placed"] == 6
        assert metrics[-1].data["metrics"]["by_status"] == {"completed": 4, "skipped_dnc": 1}
        gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(metrics)]
        assert gaps and max(gaps) < 3.0, gaps
        # Every event but the snapshots carries a position to resume from.
        assert all(e.id for e in events if e.event != "metrics")


def test_last_event_id_resumes_after_what_was_delivered(start_api):
    api = start_api(dialing=True)
    key = api.new_org("acme").key
    with api.server.client(key) as client:
        campaign_id = launch(client, ny_contacts(SCRIPTS), dnc=["+12125559999"])
        first = stream(client, campaign_id, stop_after="outcome")
        cursor = [e.id for e in first if e.id][-1]
        rest = stream(client, campaign_id, last_event_id=cursor)
        assert rest[-1].event == "end"

        def keys(events: list[Event]) -> list[tuple[str, str]]:
            return [(e.event, e.data.get("call_id") or str(e.data.get("action")))
                    for e in events if e.event in ("placed", "outcome", "lifecycle")]

        before, after = keys(first), keys(rest)
        assert not set(before) & set(after), "an event sent twice across the resume"
        calls = client.get(f"/v1/campaigns/{campaign_id}/calls").json()
        both = before + after
        assert sorted(k for k in both if k[0] == "placed") == sorted(
            ("placed", c["call_id"]) for c in calls)
        assert sorted(k for k in both if k[0] == "outcome") == sorted(
            ("outcome", c["call_id"]) for c in calls)


def test_the_stream_of_an_idle_campaign_sends_metrics_and_stops_when_the_client_leaves(api):
    key = api.new_org("acme").key
    with api.server.client(key) as client:
        audience = client.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]])}).json()
        campaign_id = client.post("/v1/campaigns", json=campaign_spec(audience["id"])).json()["id"]
        with client.stream("GET", f"/v1/campaigns/{campaign_id}/stream") as response:
            events = read_events(response)
            seen = [next(events) for _ in range(3)]
        assert [e.event for e in seen] == ["lifecycle", "metrics", "metrics"]
        assert seen[1].data["status"] == "draft"
        # The server is still serving after the client went away mid-stream.
        assert client.get(f"/v1/campaigns/{campaign_id}").status_code == 200


def test_revoking_the_key_ends_its_open_stream(api):
    acme = api.new_org("acme")
    with api.server.client(acme.key) as client:
        audience = client.post("/v1/audiences", json={
            "name": "people", "contacts": ny_contacts([["answered"]])}).json()
        campaign_id = client.post("/v1/campaigns", json=campaign_spec(audience["id"])).json()["id"]
        with client.stream("GET", f"/v1/campaigns/{campaign_id}/stream") as response:
            events = read_events(response)
            assert [next(events).event for _ in range(2)] == ["lifecycle", "metrics"]
            orgs.revoke_api_key(api.stack.client().runtime, acme.key[:11])
            # At the next snapshot at the latest, the stream ends and says why.
            rest = list(itertools.islice(events, 3))
        assert rest[-1].event == "end" and rest[-1].data == {"reason": "unauthorized"}
        assert [e.event for e in rest[:-1]] in ([], ["metrics"])
