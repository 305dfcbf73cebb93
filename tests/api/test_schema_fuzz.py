"""schemathesis against the live server: every route of the published OpenAPI document,
authenticated, with generated (valid and invalid) input. No 5xx; every response's
status code is documented and its body conforms to the documented schema.

Path ids are random strings (404) unless the generated one has an even length, in which
case the id of a real record of the key's organisation is put in, so the routes also
run against data that exists (lifecycle commands from whatever status the earlier
cases left, reads of a live campaign, deletes). A live stream is endless: schemathesis
reads its first 20 events (the server here sends metrics every 0.1 s, so that takes
about two seconds) and validates each against the documented event schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from dialer.api import create_app
from tests.api.conftest import Api
from tests.conftest import empty_state
from tests.support.api_server import ApiServer
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def live(database_url: str, redis_url: str):
    """One server for every operation (the per-test stack would start one each)."""
    empty_state(database_url, redis_url)
    stack = Stack(database_url=database_url, redis_url=redis_url, sim_start=MONDAY_9AM_NY,
                  time_scale=60, extra_env={"DIALER_API_STREAM_METRICS_S": "0.1",
                                            "DIALER_API_STREAM_POLL_S": "0.05"})
    server = ApiServer(stack.env)
    try:
        api = Api(stack=stack, server=server)
        org = api.new_org("fuzz")
        with server.client(org.key) as c:
            audience = c.post("/v1/audiences", json={
                "name": "people", "contacts": ny_contacts([["answered"]] * 3)}).json()
            number = c.post("/v1/phone-numbers", json={"number": "+14155550100"}).json()
            campaign = c.post("/v1/campaigns", json=campaign_spec(
                audience["id"], phone_number_ids=[number["id"]])).json()
        yield {"base_url": server.base_url, "key": org.key,
               "ids": {"campaign_id": campaign["id"], "call_id": campaign["id"],
                       "audience_id": audience["id"]}}
    finally:
        server.stop()
        stack.stop()


# The document as the app publishes it (tests/api/test_openapi.py checks the server
# serves this very document); the server it is run against comes from ``live``.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_route_keeps_its_published_contract(case, live):
    for name, real in live["ids"].items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, str) and len(value) % 2 == 0:
            case.path_parameters[name] = real
    case.call_and_validate(base_url=live["base_url"],
                           headers={"Authorization": f"Bearer {live['key']}"},
                           checks=CHECKS, timeout=30)


def test_sequences_of_calls_along_the_links_keep_the_contract(live):
    """Stateful: schemathesis follows the document's links (a new audience into a new
    campaign, a campaign into its commands and reads), so lifecycle commands run on
    campaigns in every status the earlier steps left them in."""

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"base_url": live["base_url"], "timeout": 30,
                    "headers": {"Authorization": f"Bearer {live['key']}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Machine.run(settings=settings(max_examples=40, stateful_step_count=8, deadline=None,
                                  suppress_health_check=list(HealthCheck)))
