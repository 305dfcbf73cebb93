"""Removing a caller ID (``remove_phone_number``): a soft removal. The row stays, since
calls name it as their from_number and campaigns by id, but for the organisation the
number is gone: not listed, not usable by a campaign, never dialed from, NotFound.
Refused while a scheduled, running or paused campaign lists it; adding the number
again brings the same row back.

The real tick on the real PostgreSQL with coordination in memory and a clock the test
moves (the ``world`` of test_use_cases_in_memory.py)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from dialer.client import DialerClient
from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.service import orgs
from dialer.service.dial import dial
from dialer.service.steps.campaign_creation import create_campaign
from dialer.service.tick import tick
from tests.integration.test_use_cases_in_memory import NO_REDIS, World
from tests.integration.test_use_cases_in_memory import world as world  # the fixture
from tests.support.scenario import campaign_spec, ny_contacts, status_of

pytestmark = pytest.mark.integration

FIRST, SECOND = "+12125550100", "+12125550199"


def _client(world: World, **org: str) -> DialerClient:
    return DialerClient(database_url=world.database_url, redis_url=NO_REDIS,
                        time_origin=f"{world.clock.now().isoformat()}@{time.time()}", **org)


@pytest.fixture
def client(world: World) -> Iterator[DialerClient]:
    with _client(world) as c:
        yield c


def audience_of(client: DialerClient, contacts: int = 2) -> str:
    return client.create_audience("people", ny_contacts([["answered"]] * contacts)).id


def field_errors(exc: ValidationError) -> dict[str, str]:
    return {field: message for field, message in exc.errors}


def test_a_removed_number_is_gone_for_the_organisation(client: DialerClient) -> None:
    kept, removed = client.add_phone_number(FIRST), client.add_phone_number(SECOND)
    assert client.remove_phone_number(removed.id) is None
    assert [n.id for n in client.phone_numbers()] == [kept.id]
    with pytest.raises(NotFound):
        client.set_phone_number_active(removed.id, True)
    with pytest.raises(NotFound):
        client.remove_phone_number(removed.id)  # removed twice: it is gone
    with pytest.raises(ValidationError) as by_number:
        client.resolve_references({}, caller_ids=[SECOND])
    with pytest.raises(ValidationError) as by_id:
        client.resolve_references({}, caller_ids=[removed.id])
    assert "not a registered caller ID" in field_errors(by_number.value)["caller_id"]
    assert field_errors(by_id.value) == {"caller_id": f"no phone number {removed.id}"}


def test_a_removed_number_cannot_be_listed_by_a_new_campaign_or_an_edit(
        client: DialerClient) -> None:
    kept, removed = client.add_phone_number(FIRST), client.add_phone_number(SECOND)
    audience_id = audience_of(client)
    draft = client.create_campaign(campaign_spec(audience_id, phone_number_ids=[kept.id]))
    client.remove_phone_number(removed.id)

    with pytest.raises(ValidationError) as created:
        client.create_campaign(campaign_spec(audience_id,
                                             phone_number_ids=[kept.id, removed.id]))
    assert field_errors(created.value) == {
        "phone_number_ids[1]": f"no phone number {removed.id}"}
    with pytest.raises(ValidationError) as edited:
        client.update_campaign(draft.id, {"phone_number_ids": [removed.id]})
    assert field_errors(edited.value) == {
        "phone_number_ids[0]": f"no phone number {removed.id}"}
    assert client.get(draft.id).campaign.phone_number_ids == [kept.id]


@pytest.mark.parametrize("status", ["running", "paused", "scheduled"])
def test_refused_while_a_live_campaign_lists_it_then_allowed_once_it_stopped(
        world: World, client: DialerClient, status: str) -> None:
    number = client.add_phone_number(FIRST)
    later = {"scheduled_at": (world.clock.now() + timedelta(days=1)).isoformat()}
    campaign = client.create_campaign(campaign_spec(
        audience_of(client), name="spring", phone_number_ids=[number.id],
        **(later if status == "scheduled" else {})))
    if status != "scheduled":
        client.start(campaign.id)
    if status == "paused":
        client.pause(campaign.id)
    assert status_of(client, campaign.id) == status

    with pytest.raises(InvalidTransition) as refused:
        client.remove_phone_number(number.id)
    assert refused.value.field == "id"
    message = str(refused.value)
    assert "'spring'" in message and campaign.id in message and status in message
    assert "stop" in message
    assert [n.is_active for n in client.phone_numbers()] == [True]  # nothing changed

    client.stop(campaign.id)
    client.remove_phone_number(number.id)
    assert client.phone_numbers() == []
    # The stopped campaign still names it: its history is its own.
    assert client.get(campaign.id).campaign.phone_number_ids == [number.id]


def test_a_draft_or_a_deleted_campaign_does_not_hold_the_number(client: DialerClient) -> None:
    number = client.add_phone_number(FIRST)
    audience_id = audience_of(client)
    client.create_campaign(campaign_spec(audience_id, phone_number_ids=[number.id]))
    running = client.create_campaign(campaign_spec(audience_id, phone_number_ids=[number.id]))
    client.start(running.id)
    client.stop(running.id)
    client.delete(running.id)
    client.remove_phone_number(number.id)
    assert client.phone_numbers() == []


def test_adding_the_number_again_revives_the_removed_row(client: DialerClient) -> None:
    number = client.add_phone_number(FIRST, provider="simulated")
    client.set_phone_number_active(number.id, False)
    client.remove_phone_number(number.id)

    again = client.add_phone_number("(212) 555-0100", provider="twilio", cps=2)
    assert (again.id, again.number, again.provider, again.is_active, again.cps) == (
        number.id, FIRST, "twilio", True, 2)
    assert client.phone_numbers() == [again]
    campaign = client.create_campaign(campaign_spec(audience_of(client),
                                                    phone_number_ids=[again.id]))
    assert campaign.phone_number_ids == [again.id]
    with pytest.raises(ValidationError) as twice:
        client.add_phone_number(FIRST)
    assert field_errors(twice.value) == {"number": f"{FIRST} is already registered"}


def test_another_organisations_number_is_not_found(world: World, client: DialerClient) -> None:
    name = f"other-{uuid.uuid4().hex[:8]}"
    orgs.create_org(client.runtime, name)
    with _client(world, org=name) as other:
        theirs = other.add_phone_number(FIRST)
        mine = client.add_phone_number(FIRST)  # the same number, each organisation's own
        for unknown in (theirs.id, str(uuid.uuid4()), "not-an-id"):
            with pytest.raises(NotFound):
                client.remove_phone_number(unknown)
        assert [n.id for n in other.phone_numbers()] == [theirs.id]
        client.remove_phone_number(mine.id)
        assert [n.id for n in other.phone_numbers()] == [theirs.id]
        assert other.phone_numbers()[0].is_active


def from_numbers(world: World, campaign_id: str) -> list[str]:
    return [row[0] for row in world.query(
        "SELECT from_number FROM calls WHERE campaign_id = :id ORDER BY queued_at, id",
        id=campaign_id)]


def test_a_campaign_never_dials_from_a_removed_number(world: World,
                                                      client: DialerClient) -> None:
    removed, kept = client.add_phone_number(FIRST), client.add_phone_number(SECOND)
    audience_id = audience_of(client, contacts=4)
    # A draft may keep listing it; started later, it dials from its other number only.
    campaign = client.create_campaign(campaign_spec(audience_id,
                                                    phone_number_ids=[removed.id, kept.id]))
    only_removed = client.create_campaign(campaign_spec(audience_id,
                                                        phone_number_ids=[removed.id]))
    client.remove_phone_number(removed.id)
    client.start(campaign.id)
    world.clock.advance(60)
    tick(world.rt)
    assert len(world.dispatcher.dialed()) == 4
    assert from_numbers(world, campaign.id) == [SECOND] * 4

    # With only removed numbers, nothing is dialed at all.
    client.start(only_removed.id)
    tick(world.rt)
    assert from_numbers(world, only_removed.id) == []
    assert "no_active_numbers" in [e.action for e in client.events(only_removed.id)]


def test_calls_placed_from_a_removed_number_keep_it(world: World,
                                                     client: DialerClient) -> None:
    number = client.add_phone_number(FIRST)
    campaign = client.create_campaign(campaign_spec(audience_of(client, contacts=1),
                                                    phone_number_ids=[number.id]))
    client.start(campaign.id)
    world.clock.advance(60)
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    assert dial(world.rt, call_id) == "placed"
    client.stop(campaign.id)
    client.remove_phone_number(number.id)
    assert [c.from_number for c in client.calls(campaign.id)] == [FIRST]


def test_a_removal_waits_for_a_campaign_being_created_with_the_number(
        world: World, client: DialerClient) -> None:
    """The creation's check holds the number shared until it commits: a removal meanwhile
    waits, then sees the new (scheduled) campaign and is refused, instead of leaving a
    live campaign that lists a removed number."""
    number = client.add_phone_number(FIRST)
    audience_id = audience_of(client)
    later = (world.clock.now() + timedelta(days=1)).isoformat()
    outcome: list[BaseException | None] = []

    def remove() -> None:
        try:
            client.remove_phone_number(number.id)
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    remover = threading.Thread(target=remove)
    with world.rt.transaction() as session:
        campaign = create_campaign(
            session, campaign_spec(audience_id, phone_number_ids=[number.id],
                                   scheduled_at=later),
            org_id=client.org.id, now=world.clock.now(), source="test")
        remover.start()
        remover.join(timeout=1.0)
        assert remover.is_alive(), "the removal did not wait for the creation"
    remover.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], InvalidTransition), outcome
    assert campaign.id in str(outcome[0])
    assert [n.id for n in client.phone_numbers()] == [number.id]
