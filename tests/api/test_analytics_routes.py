"""The analytics routes over a real socket: the client's views as JSON, 404 for another
organisation's campaign exactly as for an unknown one, 422 for a bad ``by``."""

from __future__ import annotations

import pytest

from tests.support.analytics_rows import CALLER_B, MONDAY, Row, make_campaign, write_rows

pytestmark = pytest.mark.integration

UNKNOWN = "00000000-0000-4000-8000-000000000000"
ROUTES = ("/analytics/funnel", "/analytics/heatmap", "/analytics/pickup",
          "/analytics/pickup?by=attempt", "/analytics/pickup?by=caller_id", "/executions")


def test_the_analytics_routes_answer_what_the_client_returns(api):
    acme, globex = api.new_org("acme"), api.new_org("globex")
    client = api.stack.client("acme")
    campaign_id, p = make_campaign(client, 3)
    write_rows(client, campaign_id, [
        Row(p[0], 1, "no_answer", MONDAY), Row(p[0], 2, "answered", MONDAY, CALLER_B, True),
        Row(p[1], 1, "busy", MONDAY)],
        executions=[(1, "running", MONDAY, None, 3)])
    with api.server.client(acme.key) as a, api.server.client(globex.key) as g:
        got = {path: a.get(f"/v1/campaigns/{campaign_id}{path}") for path in ROUTES}
        assert {path: r.status_code for path, r in got.items()} == dict.fromkeys(ROUTES, 200)
        assert got["/analytics/funnel"].json() == client.funnel(campaign_id).model_dump(
            mode="json")
        assert got["/analytics/heatmap"].json() == client.heatmap(campaign_id).model_dump(
            mode="json")
        by_attempt = [r.model_dump(mode="json") for r in client.pickup_by_attempt(campaign_id)]
        assert got["/analytics/pickup"].json() == got["/analytics/pickup?by=attempt"].json() \
            == by_attempt
        assert [r["key"] for r in by_attempt] == ["1", "2"]
        assert got["/analytics/pickup?by=caller_id"].json() == [
            r.model_dump(mode="json") for r in client.pickup_by_caller_id(campaign_id)]
        executions = got["/executions"].json()
        assert (executions["total"], executions["running"]) == (1, 1)
        assert executions["executions"][0]["processed_members"] == 2

        for path in ROUTES:
            foreign = g.get(f"/v1/campaigns/{campaign_id}{path}")
            missing = g.get(f"/v1/campaigns/{UNKNOWN}{path}")
            assert foreign.status_code == missing.status_code == 404, path
            assert foreign.json() == missing.json()
        bad = a.get(f"/v1/campaigns/{campaign_id}/analytics/pickup?by=hour")
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"by"}
