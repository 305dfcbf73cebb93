"""The Atoms-compatible surface over a real socket: envelopes, status codes, pagination,
bounds, CSV limits, and another organisation's ids answering 404 (docs/atoms.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from smallestai import SmallestAI, SmallestAIEnvironment
from smallestai.core.api_error import ApiError

from dialer.client import DialerClient
from tests.support.atoms_server import Tenant, api_server, make_tenant
from tests.support.stack import stack_broker_url

pytestmark = pytest.mark.integration

CSV = ("firstName,lastName,phoneNumber,plan\n"
       "Ann,Lee,+12125550101,gold\n"
       "Bob,Ray,+12125550102,silver\n"
       "Cy,Ode,not-a-phone,gold\n"
       "Dee,Lee,+12125550101,gold\n"
       "Eve,Max,+12125550105,bronze\n")


@pytest.fixture(scope="module")
def base(database_url: str, redis_url: str) -> Iterator[str]:
    env = {"DIALER_DATABASE_URL": database_url, "DIALER_REDIS_URL": redis_url,
           "DIALER_BROKER_URL": stack_broker_url(redis_url),
           "DIALER_TIME_ORIGIN": f"{datetime(2026, 3, 2, 14, tzinfo=UTC).isoformat()}"
                                 f"@{time.time():.6f}"}
    with api_server(env) as url:
        yield url + "/atoms/v1"


@pytest.fixture
def owner(clean_state, database_url: str, redis_url: str, base: str) -> Iterator[DialerClient]:
    client = DialerClient(database_url=database_url, redis_url=redis_url,
                          broker_url=stack_broker_url(redis_url))
    yield client
    client.close()


@pytest.fixture
def acme(owner: DialerClient) -> Iterator[Tenant]:
    tenant = make_tenant(owner, "acme")
    yield tenant
    tenant.client.close()


@pytest.fixture
def globex(owner: DialerClient) -> Iterator[Tenant]:
    tenant = make_tenant(owner, "globex")
    yield tenant
    tenant.client.close()


_open: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def http(base: str, tenant: Tenant) -> httpx.Client:
    """An HTTP client sending the tenant's key (closed after the test)."""
    _open.append(httpx.Client(base_url=base, timeout=30,
                              headers={"Authorization": f"Bearer {tenant.key}"}))
    return _open[-1]


def failed(response: httpx.Response, status: int) -> list[str]:
    """The Atoms error envelope, with ``status``: its messages."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] is False and set(body) == {"status", "errors"}, body
    assert body["errors"] and all(isinstance(e, str) for e in body["errors"]), body
    return body["errors"]


def ok(response: httpx.Response, status: int = 200) -> object:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] is True, body
    return body.get("data")


def upload(api: httpx.Client, text: str = CSV, name: str = "leads", **form: str) -> dict:
    return ok(api.post("/audience", files={"file": ("leads.csv", text.encode(), "text/csv")},
                       data={"name": name, "phoneNumberColumnName": "phoneNumber", **form}))


def campaign_body(audience_id: str, **extra: object) -> dict:
    return {"name": "Spring", "agentId": "agent-7", "audienceId": audience_id, **extra}


def test_a_missing_or_wrong_key_is_401_in_the_envelope(base, acme):
    failed(httpx.get(f"{base}/campaign"), 401)
    failed(httpx.get(f"{base}/campaign", headers={"Authorization": "Bearer dk_00000000_x"}),
           401)
    failed(httpx.get(f"{base}/no/such/route"), 404)


def test_campaign_create_answers_201_with_atoms_fields_and_our_settings(base, acme):
    api = http(base, acme)
    audience = upload(api)
    number = acme.client.add_phone_number("+12125550199")
    created = ok(api.post("/campaign", json=campaign_body(
        audience["_id"], phoneNumberIds=[number.id], maxRetries=2, retryDelay=30,
        description="hello", timezone="America/New_York",
        callWindow={"start": "10:00", "end": "17:00"}, pacing={"channels": 3},
        retry={"retryOnVoicemail": True})), 201)
    assert created["agentId"] == "agent-7" and created["audienceId"] == audience["_id"]
    assert (created["status"], created["maxRetries"], created["retryDelay"]) == ("draft", 2, 30)
    assert created["participantsCount"] == 3 and created["retryAttempts"] == 0
    assert created["settings"]["callWindow"] == {"start": "10:00", "end": "17:00"}
    assert created["settings"]["pacing"]["channels"] == 3
    assert created["settings"]["retry"]["retryOnVoicemail"] is True
    spec = acme.client.get(created["_id"]).campaign.spec
    assert spec["retry"]["retry_delay_minutes"] == 30 and spec["retry"]["max_retries"] == 2
    assert spec["schedule"]["call_window"] == {"start": "10:00", "end": "17:00"}
    assert spec["phone_number_ids"] == [number.id]


def test_bounds_are_400_naming_every_field_as_sent(base, acme):
    api = http(base, acme)
    audience = upload(api)
    errors = failed(api.post("/campaign", json=campaign_body(
        audience["_id"], maxRetries=11, retryDelay=0)), 400)
    assert {e.split(":")[0] for e in errors} == {"maxRetries", "retryDelay"}
    errors = failed(api.post("/campaign", json={"name": "x"}), 400)
    assert {e.split(":")[0] for e in errors} == {"audienceId", "agentId"}
    errors = failed(api.post("/campaign", json=campaign_body(
        audience["_id"], name="x" * 41, callHandling={"ringTimeoutS": 1},
        callWindow={"start": "18:00", "end": "09:00"})), 400)
    assert {e.split(":")[0] for e in errors} == {"name", "callHandling.ringTimeoutS",
                                                 "callWindow"}
    failed(api.post("/campaign", json=campaign_body(audience["_id"], speed="fast")), 400)
    failed(api.get("/campaign", params={"offset": 0}), 400)
    failed(api.get("/campaign", params={"status": "sleeping"}), 400)


def test_list_pages_sorts_searches_and_filters_by_atoms_status(base, acme):
    api = http(base, acme)
    audience = upload(api)
    ids = [ok(api.post("/campaign", json=campaign_body(audience["_id"], name=f"c{i}")), 201)
           ["_id"] for i in range(7)]
    page = ok(api.get("/campaign", params={"page": 2, "offset": 3}))
    assert page["pagination"] == {"total": 7, "page": 2, "offset": 3, "hasMore": True,
                                  "totalPages": 3}
    assert [c["_id"] for c in page["campaigns"]] == ids[::-1][3:6]  # newest first
    oldest = ok(api.get("/campaign", params={"sortOrder": "asc", "offset": 2}))
    assert [c["_id"] for c in oldest["campaigns"]] == ids[:2]
    assert ok(api.get("/campaign"))["pagination"]["offset"] == 5  # Atoms' default size
    assert [c["name"] for c in ok(api.get("/campaign", params={"search": "C3"}))
            ["campaigns"]] == ["c3"]
    ok(api.post(f"/campaign/{ids[0]}/stop"))
    stopped = ok(api.get("/campaign", params={"status": "cancelled"}))
    assert [c["_id"] for c in stopped["campaigns"]] == [ids[0]]
    assert stopped["campaigns"][0]["status"] == "cancelled"
    assert stopped["totalCampaignCount"] == 7 and stopped["pagination"]["total"] == 1
    assert ok(api.get("/campaign", params={"status": "processing"}))["campaigns"] == []
    item = ok(api.get("/campaign", params={"status": "draft", "offset": 1}))["campaigns"][0]
    assert item["agent"]["_id"] == "agent-7"
    assert item["audience"] == {"_id": audience["_id"], "name": "leads"}


def test_lifecycle_codes_start_202_resumes_pause_200_and_bad_moves_400(base, acme):
    api = http(base, acme)
    audience = upload(api)
    cid = ok(api.post("/campaign", json=campaign_body(audience["_id"])), 201)["_id"]
    failed(api.post(f"/campaign/{cid}/pause"), 400)  # a draft cannot pause
    started = ok(api.post(f"/campaign/{cid}/start"), 202)
    assert started["campaignId"] == cid and started["message"] and started["taskId"]
    assert ok(api.get(f"/campaign/{cid}"))["campaign"]["status"] == "running"
    ok(api.post(f"/campaign/{cid}/pause"))
    paused = ok(api.get(f"/campaign/{cid}"))["campaign"]
    assert paused["status"] == "paused" and paused["pausedAt"]
    ok(api.post(f"/campaign/{cid}/start"), 202)  # resumes
    detail = ok(api.get(f"/campaign/{cid}"))
    assert detail["campaign"]["status"] == "running"
    assert [e["eventAction"] for e in detail["events"]][:4] == ["created", "started", "paused",
                                                                 "resumed"]
    assert {"total_participants", "contacts_called", "contacts_connected"} <= set(
        detail["metrics"])
    failed(api.delete(f"/campaign/{cid}"), 400)  # running: pause or stop first
    ok(api.post(f"/campaign/{cid}/stop"))
    assert api.delete(f"/campaign/{cid}").json() == {"status": True}
    failed(api.get(f"/campaign/{cid}"), 404)


def test_audience_members_page_add_search_and_delete(base, acme):
    api = http(base, acme)
    created = upload(api, description="spring list")
    assert created["memberCount"] == 3 and created["phoneNumberColumnName"] == "phoneNumber"
    assert created["description"] == "spring list"
    assert [r["row"] for r in created["rejected"]] == [4, 5]  # bad phone, repeated phone
    aid = created["_id"]
    first = ok(api.get(f"/audience/{aid}/members", params={"page": 1, "offset": 2}))
    assert (first["totalCount"], first["totalPages"], first["hasMore"]) == (3, 2, True)
    assert first["members"][0]["data"] == {"firstName": "Ann", "lastName": "Lee",
                                           "plan": "gold", "phoneNumber": "+12125550101"}
    added = ok(api.post(f"/audience/{aid}/members", json={"members": [
        {"phoneNumber": "+12125550106", "firstName": "Fay", "age": 40},
        {"phoneNumber": "+12125550101", "firstName": "Ann again"}]}))
    assert added[0]["data"]["added"] == 1 and added[0]["data"]["skipped"] == 1
    assert added[0]["message"] == "1 members added successfully"
    errors = failed(api.post(f"/audience/{aid}/members", json={"members": [{"name": "x"}]}),
                    400)
    assert "Each member must have a phoneNumber field" in errors[0]
    general = ok(api.get(f"/audience/{aid}/members/search", params={"query": "GOLD"}))
    assert [m["data"]["firstName"] for m in general["members"]] == ["Ann"]
    assert general["searchInfo"]["searchType"] == "general"
    fields = ok(api.get(f"/audience/{aid}/members/search",
                        params={"lastName": "ray", "phoneNumber": "0102"}))
    assert [m["data"]["firstName"] for m in fields["members"]] == ["Bob"]
    assert fields["searchInfo"]["searchFields"] == ["lastName", "phoneNumber"]
    failed(api.get(f"/audience/{aid}/members/search"), 400)
    failed(api.get(f"/audience/{aid}/members/search", params={"query": "a", "plan": "b"}), 400)
    one = ok(api.get(f"/audience/{aid}"))
    assert one["memberCount"] == 4 and one["name"] == "leads"
    bob = fields["members"][0]["_id"]
    gone = ok(api.request("DELETE", f"/audience/{aid}/members", json={"memberIds": [bob]}))
    assert gone == {"deletedCount": 1}
    listed = ok(api.get("/audience"))
    assert [(a["_id"], a["memberCount"], a["hasCampaigns"]) for a in listed] == [(aid, 3, False)]
    cid = ok(api.post("/campaign", json=campaign_body(aid)), 201)["_id"]
    assert ok(api.get("/audience"))[0]["campaigns"][0]["_id"] == cid
    assert "campaign with this audience" in failed(api.delete(f"/audience/{aid}"), 400)[0]
    ok(api.delete(f"/campaign/{cid}"))
    assert ok(api.delete(f"/audience/{aid}")) == []
    failed(api.get(f"/audience/{aid}"), 404)


def test_csv_and_audience_limits_are_413(base, acme):
    api = http(base, acme)
    big = "phoneNumber,padding\n" + ("+12125550101," + "x" * 1000 + "\n") * 5300
    failed(api.post("/audience", files={"file": ("big.csv", big.encode(), "text/csv")},
                    data={"name": "big", "phoneNumberColumnName": "phoneNumber"}), 413)
    many = "phoneNumber\n" + "".join(f"+1212555{i:04d}\n" for i in range(10_001))
    errors = failed(api.post("/audience", files={"file": ("m.csv", many.encode(), "text/csv")},
                             data={"name": "many", "phoneNumberColumnName": "phoneNumber"}),
                    413)
    assert "10000" in errors[0]
    assert ok(api.get("/audience")) == []  # nothing half-written
    errors = failed(api.post("/audience", files={"file": ("x.csv", b"phone\n+12125550101\n",
                                                          "text/csv")},
                             data={"name": "x", "phoneNumberColumnName": "phoneNumber"}), 400)
    assert errors[0].startswith("phoneNumberColumnName")
    failed(api.post("/audience", data={"name": "x", "phoneNumberColumnName": "p"},
                    files={"other": ("x.csv", b"p\n", "text/csv")}), 400)


def test_another_organisations_ids_answer_404_and_lists_leave_them_out(base, acme, globex):
    mine, theirs = http(base, acme), http(base, globex)
    audience = upload(theirs)
    cid = ok(theirs.post("/campaign", json=campaign_body(audience["_id"])), 201)["_id"]
    aid = audience["_id"]
    for method, path in [("GET", f"/campaign/{cid}"), ("DELETE", f"/campaign/{cid}"),
                         ("POST", f"/campaign/{cid}/start"), ("POST", f"/campaign/{cid}/pause"),
                         ("POST", f"/campaign/{cid}/stop"), ("GET", f"/audience/{aid}"),
                         ("DELETE", f"/audience/{aid}"), ("GET", f"/audience/{aid}/members"),
                         ("GET", f"/audience/{aid}/members/search?query=a")]:
        failed(mine.request(method, path), 404)
    failed(mine.post(f"/audience/{aid}/members", json={"members": [
        {"phoneNumber": "+12125550109"}]}), 404)
    failed(mine.request("DELETE", f"/audience/{aid}/members", json={"memberIds": ["1"]}), 404)
    failed(mine.get("/campaign/not-an-id"), 404)
    # A campaign of mine cannot use their audience either.
    assert failed(mine.post("/campaign", json=campaign_body(aid)), 400)[0].startswith(
        "audienceId")
    assert ok(mine.get("/campaign"))["campaigns"] == [] and ok(mine.get("/audience")) == []
    assert ok(theirs.get(f"/campaign/{cid}"))["campaign"]["status"] == "draft"
    assert ok(theirs.get(f"/audience/{aid}"))["memberCount"] == 3


def test_phone_numbers_and_dnc_are_the_organisations_own(base, acme, globex):
    number = acme.client.add_phone_number("+12125550142")
    globex.client.add_phone_number("+12125550143")
    acme.client.add_dnc([f"+1212555{i:04d}" for i in range(300, 312)])
    globex.client.add_dnc(["+12125550999"])
    api = http(base, acme)
    [phone] = ok(api.get("/product/phone-numbers"))
    assert phone == {"_id": number.id, "productType": "telephony", "isActive": True,
                     "agentId": None, "attributes": {"provider": "simulated",
                                                     "phoneNumber": "+12125550142",
                                                     "countryCode": "US"}}
    page = ok(api.get("/dnc", params={"page": "2", "offset": "5", "sortField": "phoneNumber",
                                      "sortOrder": "asc"}))
    assert [e["phoneNumber"] for e in page["entries"]] == [f"+1212555{i:04d}"
                                                            for i in range(305, 310)]
    assert page["pagination"] == {"total": 12, "page": 2, "offset": 5, "hasMore": True,
                                  "totalPages": 3}
    assert ok(api.get("/dnc", params={"offset": "0"}))["pagination"]["offset"] == 1
    assert ok(api.get("/dnc", params={"offset": "9999"}))["pagination"]["offset"] == 500
    assert ok(api.get("/dnc"))["pagination"]["offset"] == 50
    found = ok(api.get("/dnc", params={"search": "5550311"}))["entries"]
    assert [e["phoneNumber"] for e in found] == ["+12125550311"]
    failed(api.get("/dnc", params={"page": "first"}), 400)


def test_the_sdk_calls_for_members_dnc_and_lists_work_unchanged(base, acme):
    """The SDK methods the end-to-end scenario does not use, against the same server."""
    acme.client.add_dnc(["+12125550177", "+12125550178"])
    root = base.removesuffix("/atoms/v1")
    with httpx.Client(timeout=30) as transport:
        atoms = SmallestAI(api_key=acme.key, httpx_client=transport,
                           environment=SmallestAIEnvironment(
                               atoms=base, waves=root, waves_ws=root, payment=root)).atoms
        aid = upload(http(base, acme))["_id"]
        added = atoms.audience.add_audience_members(aid, members=[
            {"phoneNumber": "+12125550160", "firstName": "Gus"}]).data
        assert (added[0].data.added, added[0].data.skipped) == (1, 0)
        found = atoms.audience.search_audience_members(aid, query="gus").data
        assert [m.data["phoneNumber"] for m in found.members] == ["+12125550160"]
        assert found.search_info.total_results == 1
        gone = atoms.audience.delete_audience_members(aid, member_ids=[found.members[0].id])
        assert gone.data.deleted_count == 1
        assert [a.member_count for a in atoms.audience.list().data] == [3]
        assert atoms.audience.get(aid).data.name == "leads"
        dnc = atoms.dnc.list(page="1", offset="1", sort_field="phoneNumber",
                             sort_order="asc").data
        assert [e.phone_number for e in dnc.entries] == ["+12125550177"]
        assert (dnc.pagination.total, dnc.pagination.has_more) == (2, True)
        assert atoms.campaigns.list(status="running").data.campaigns == []
        assert atoms.audience.delete_audience(aid).data == []
        with pytest.raises(ApiError) as missing:
            atoms.audience.get(aid)
        assert missing.value.status_code == 404
