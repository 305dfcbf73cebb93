"""The status ``failed``: reached when the configuration lets no call through (no active
caller ID for too long, the provider refusing every call for good), with its ``error``
and ``failed_at`` shown on the campaign, inspectable and deletable.

The real tick and dial on the real PostgreSQL with coordination in memory and a clock
the test moves (the ``world`` of test_use_cases_in_memory.py); the provider refusing
is also run on the real stack."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from dialer.client import DialerClient
from dialer.provider import CallRefused, CallRequest
from dialer.service.dial import dial
from dialer.service.results import record_result
from dialer.service.tick import tick
from tests.integration.test_use_cases_in_memory import NO_REDIS, World
from tests.integration.test_use_cases_in_memory import world as world  # the fixture
from tests.support.cli import run
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, launch, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def client(world: World) -> Iterator[DialerClient]:
    def clock_origin() -> str:
        return f"{world.clock.now().isoformat()}@{time.time()}"

    with DialerClient(database_url=world.database_url, redis_url=NO_REDIS,
                      time_origin=clock_origin()) as c:
        yield c


def with_settings(world: World, **settings: Any) -> None:
    world.rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(
        update=settings))


def launch_with_number(world: World, client: DialerClient,
                       contacts: int = 2) -> tuple[str, str]:
    number = client.add_phone_number("+12125550100")
    audience = client.create_audience("people", ny_contacts([["answered"]] * contacts))
    campaign = client.create_campaign(campaign_spec(audience.id, phone_number_ids=[number.id]))
    client.start(campaign.id)
    # The client's clock ran on in real time meanwhile; the world's stood still.
    world.clock.advance(60)
    return campaign.id, number.id


def test_no_active_caller_id_for_longer_than_the_threshold_fails_the_campaign(
        world: World, client: DialerClient) -> None:
    with_settings(world, fail_no_caller_id_after_s=600)
    campaign_id, number_id = launch_with_number(world, client)
    client.set_phone_number_active(number_id, False)
    tick(world.rt)
    # As before the threshold: nothing dialed, said once, still running.
    world.clock.advance(599)
    tick(world.rt)
    assert world.dispatcher.dials == []
    assert status_of(client, campaign_id) == "running"
    assert [e.action for e in client.events(campaign_id)].count("no_active_numbers") == 1

    world.clock.advance(2)
    tick(world.rt)
    campaign = client.get(campaign_id).campaign
    assert campaign.status == "failed" and campaign.pause_reason == "no_caller_id"
    assert campaign.error is not None and "no active caller ID for 601 s" in campaign.error
    assert campaign.failed_at == world.clock.now()
    assert {p.status for p in client.participants(campaign_id)} == {"canceled"}
    failed = [e for e in client.events(campaign_id) if e.action == "failed"]
    assert len(failed) == 1 and "no active caller ID" in (failed[0].detail or "")
    # Inspectable in the list, and deletable.
    assert [c.error for c in client.list(status="failed")] == [campaign.error]
    client.delete(campaign_id)


def test_a_caller_id_back_in_time_keeps_the_campaign_running(
        world: World, client: DialerClient) -> None:
    with_settings(world, fail_no_caller_id_after_s=600)
    campaign_id, number_id = launch_with_number(world, client, contacts=1)
    client.set_phone_number_active(number_id, False)
    tick(world.rt)
    world.clock.advance(300)
    client.set_phone_number_active(number_id, True)
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    assert dial(world.rt, call_id) == "placed"
    world.clock.advance(200)
    assert record_result(world.rt, call_id, outcome="no_answer") == "recorded"
    # Gone again: its time without a caller ID starts when a tick finds none again.
    client.set_phone_number_active(number_id, False)
    world.clock.advance(500)
    tick(world.rt)
    world.clock.advance(599)
    tick(world.rt)
    assert status_of(client, campaign_id) == "running"
    assert client.get(campaign_id).campaign.error is None
    world.clock.advance(1)
    tick(world.rt)
    assert status_of(client, campaign_id) == "failed"


def fail_for_want_of_a_caller_id(world: World, client: DialerClient) -> str:
    """A running campaign failed the first way above; its id."""
    with_settings(world, fail_no_caller_id_after_s=600)
    campaign_id, number_id = launch_with_number(world, client)
    client.set_phone_number_active(number_id, False)
    tick(world.rt)
    world.clock.advance(601)
    tick(world.rt)
    assert status_of(client, campaign_id) == "failed"
    return campaign_id


def test_the_command_line_says_why_and_when_a_campaign_failed(
        world: World, client: DialerClient, cli_environment) -> None:
    cli_environment(world.clock.now().isoformat())
    campaign_id = fail_for_want_of_a_caller_id(world, client)
    campaign = client.get(campaign_id).campaign
    assert campaign.error is not None and campaign.failed_at is not None
    failed_at = campaign.failed_at.isoformat(timespec="seconds")

    for command in (("campaign", "show", campaign_id), ("watch", campaign_id, "--once")):
        code, out, _ = run(*command)
        assert code == 0, out
        # As read: the error wraps at the width of the terminal (in watch, inside a box).
        text = " ".join(out.replace("│", " ").split())
        assert "status failed (no_caller_id)" in text, command
        assert f"failed at {failed_at}: {campaign.error}" in text, command
    code, out, _ = run("campaign", "show", campaign_id, "--json")
    shown = json.loads(out)["campaign"]
    assert shown["error"] == campaign.error
    assert datetime.fromisoformat(shown["failed_at"]) == campaign.failed_at


class Refusing:
    """A provider that refuses every call, for good unless told otherwise."""

    def __init__(self, *, permanent: bool = True) -> None:
        self.permanent = permanent
        self.asked = 0

    def place_call(self, request: CallRequest) -> str:
        self.asked += 1
        raise CallRefused(f"account suspended; caller {request.from_number} not verified",
                          permanent=self.permanent)


def refuse_with(world: World, provider: Refusing) -> None:
    world.rt = dataclasses.replace(world.rt, provider_factory=lambda _: provider)


def dial_all(world: World, since: int) -> list[str]:
    tick(world.rt)
    call_ids = world.dispatcher.dialed()[since:]
    return [dial(world.rt, call_id) for call_id in call_ids]


def test_a_provider_refusing_every_call_for_good_fails_the_campaign(
        world: World, client: DialerClient) -> None:
    with_settings(world, fail_after_provider_refusals=3)
    refusing = Refusing()
    refuse_with(world, refusing)
    campaign_id, _ = launch_with_number(world, client, contacts=2)
    assert dial_all(world, 0) == ["returned:provider_refused"] * 2
    assert status_of(client, campaign_id) == "running"
    world.clock.advance(1)
    assert dial_all(world, 2)[0] == "returned:provider_refused"
    campaign = client.get(campaign_id).campaign
    assert campaign.status == "failed" and campaign.pause_reason == "provider_refused_permanently"
    assert campaign.error is not None and "account suspended" in campaign.error
    assert "+1212" not in campaign.error and "<digits>" in campaign.error
    assert campaign.failed_at is not None
    assert {p.status for p in client.participants(campaign_id)} == {"canceled"}
    assert client.calls(campaign_id) == []


def test_the_refusal_that_reaches_the_threshold_fails_the_campaign(
        world: World, client: DialerClient) -> None:
    """The provider refused the run's first DIALER_FAIL_AFTER_PROVIDER_REFUSALS calls
    (docs/contract.md §4): the refusal being recorded is one of them."""
    with_settings(world, fail_after_provider_refusals=2)
    refuse_with(world, Refusing())
    campaign_id, _ = launch_with_number(world, client, contacts=3)
    tick(world.rt)
    first, second, _ = world.dispatcher.dialed()
    assert dial(world.rt, first) == "returned:provider_refused"
    assert status_of(client, campaign_id) == "running"
    assert dial(world.rt, second) == "returned:provider_refused"
    campaign = client.get(campaign_id).campaign
    assert campaign.status == "failed"
    assert campaign.error is not None and "refused the first 2 calls" in campaign.error


def test_refusals_that_may_pass_never_fail_the_campaign(
        world: World, client: DialerClient) -> None:
    with_settings(world, fail_after_provider_refusals=2)
    refuse_with(world, Refusing(permanent=False))
    campaign_id, _ = launch_with_number(world, client, contacts=2)
    for round_ in range(3):
        world.clock.advance(1)
        dial_all(world, len(world.dispatcher.dials))
        assert status_of(client, campaign_id) == "running", round_


def test_refusals_after_a_placed_call_do_not_fail_the_campaign(
        world: World, client: DialerClient) -> None:
    with_settings(world, fail_after_provider_refusals=2)
    campaign_id, _ = launch_with_number(world, client, contacts=3)
    tick(world.rt)
    first, *others = world.dispatcher.dialed()
    assert dial(world.rt, first) == "placed"  # the run's one placed call
    refuse_with(world, Refusing())
    for call_id in others:
        assert dial(world.rt, call_id) == "returned:provider_refused"
    world.clock.advance(1)
    dial_all(world, 3)
    assert status_of(client, campaign_id) == "running"


def test_the_provider_refusing_fails_the_campaign_on_the_real_stack(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60,
                       extra_env={"DIALER_FAIL_AFTER_PROVIDER_REFUSALS": "4"})
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    contacts = ny_contacts([["answered"]] * 3, test_provider="refuse", test_refusals=1000,
                           test_refuse_permanently=True,
                           test_refusal="caller ID +1 212 555 0100 is not allowed")
    campaign_id = launch(client, contacts)
    wait_for(lambda: status_of(client, campaign_id) == "failed", timeout_s=60,
             what="campaign failed")
    campaign = client.get(campaign_id).campaign
    assert campaign.error is not None and "is not allowed" in campaign.error
    assert "555" not in campaign.error
    assert campaign.failed_at is not None
    client.delete(campaign_id)
