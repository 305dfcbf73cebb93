"""Secondary numbers through the real tick, dial and result on the real PostgreSQL, with
coordination in memory and a clock the test moves (the ``world`` of
test_use_cases_in_memory.py): each number's own attempts, the number that answered,
and the do-not-call list, frequency caps and calendar read for the number dialed."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from dialer.client import DialerClient
from dialer.service.dial import dial
from dialer.service.results import record_result
from dialer.service.targets import FrequencyCaps
from dialer.service.tick import tick
from tests.integration.test_use_cases_in_memory import NO_REDIS, World
from tests.integration.test_use_cases_in_memory import world as world  # the fixture
from tests.support.in_process import OPEN_WINDOW
from tests.support.scenario import campaign_spec

pytestmark = pytest.mark.integration

PRIMARY, SECOND, THIRD = "+12125550001", "+12125550002", "+12125550003"
LOS_ANGELES = "+13105550009"  # no contact time zone: the number's own (Pacific)


def launch(world: World, contacts: list[dict[str, Any]], **spec: Any) -> tuple[str, str]:
    """Start a campaign of these contacts; (campaign id, organisation id)."""
    with DialerClient(database_url=world.database_url, redis_url=NO_REDIS,
                      time_origin=f"{OPEN_WINDOW.isoformat()}@{time.time()}") as client:
        audience = client.create_audience("numbers", contacts)
        assert not audience.rejected, audience.rejected
        overrides = {"retry": {"max_retries": 1, "retry_delay_minutes": 5}, **spec}
        campaign = client.create_campaign(campaign_spec(audience.id, **overrides))
        client.start(campaign.id)
        return campaign.id, client.org.id


def add_dnc(world: World, *numbers: str) -> None:
    with DialerClient(database_url=world.database_url, redis_url=NO_REDIS) as client:
        client.add_dnc(list(numbers))


def participant(world: World) -> Any:
    [row] = world.query("SELECT phone, phone_index, phone_attempts, attempts, status, "
                        "answered_phone, skip_reason, next_attempt_at FROM participants")
    return row


def call_once(world: World, outcome: str | None) -> str:
    """One tick and the dial it sends; the result ``outcome`` when given. The number
    dialed."""
    before = len(world.dispatcher.dialed())
    tick(world.rt)
    dialed = world.dispatcher.dialed()[before:]
    assert len(dialed) == 1, f"expected one dial, got {dialed}"
    assert dial(world.rt, dialed[0]) == "placed"
    [(to_number,)] = world.query("SELECT to_number FROM calls WHERE id = :id", id=dialed[0])
    if outcome is not None:
        assert record_result(world.rt, dialed[0], outcome=outcome) == "recorded"
    return str(to_number)


def later(world: World, minutes: float = 6) -> None:
    world.clock.advance(minutes * 60)


def test_the_secondary_is_dialed_with_its_own_attempts_and_records_the_answer(
        world: World) -> None:
    launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND, THIRD]}])
    assert call_once(world, "no_answer") == PRIMARY
    later(world)
    assert call_once(world, "busy") == PRIMARY
    row = participant(world)
    assert (row.phone, row.phone_index, row.phone_attempts, row.attempts, row.status) == (
        SECOND, 1, 0, 2, "retry_scheduled")
    # The normal retry delay holds before the next number, as before any retry.
    assert row.next_attempt_at >= OPEN_WINDOW.replace(minute=11)
    tick(world.rt)
    assert len(world.dispatcher.dialed()) == 2  # not due yet

    later(world)
    assert call_once(world, "no_answer") == SECOND
    later(world)
    assert call_once(world, "answered") == SECOND
    row = participant(world)
    assert (row.status, row.answered_phone, row.phone_index, row.phone_attempts,
            row.attempts) == ("completed", SECOND, 1, 2, 4)
    attempts = world.query("SELECT attempt, to_number FROM calls ORDER BY attempt")
    assert [tuple(a) for a in attempts] == [(1, PRIMARY), (2, PRIMARY), (3, SECOND),
                                            (4, SECOND)]


def test_every_number_exhausted_fails_the_contact(world: World) -> None:
    launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND]}],
           retry={"max_retries": 0, "retry_delay_minutes": 5})
    assert call_once(world, "no_answer") == PRIMARY
    later(world)
    assert call_once(world, "no_answer") == SECOND
    row = participant(world)
    assert (row.status, row.attempts, row.answered_phone) == ("failed", 2, None)


def test_a_primary_on_the_dnc_list_passes_to_the_secondary_without_an_attempt(
        world: World) -> None:
    add_dnc(world, PRIMARY)
    campaign_id, _ = launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND]}])
    tick(world.rt)  # the primary is passed over, the contact stays due on its secondary
    assert world.dispatcher.dialed() == []
    row = participant(world)
    assert (row.phone, row.phone_index, row.attempts, row.status) == (SECOND, 1, 0, "pending")
    assert call_once(world, "answered") == SECOND
    assert participant(world).answered_phone == SECOND
    reasons = [r for (r,) in world.query("SELECT reason FROM skips WHERE campaign_id = :c",
                                          c=campaign_id)]
    assert reasons == ["dnc"]


def test_a_secondary_on_the_dnc_list_is_passed_over_too(world: World) -> None:
    add_dnc(world, SECOND)
    launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND, THIRD]}],
           retry={"max_retries": 0, "retry_delay_minutes": 5})
    assert call_once(world, "no_answer") == PRIMARY
    later(world)
    tick(world.rt)  # the second number is on the list: on to the third, no call
    assert len(world.dispatcher.dialed()) == 1
    assert participant(world).phone == THIRD
    assert call_once(world, "no_answer") == THIRD
    row = participant(world)
    assert (row.status, row.attempts) == ("failed", 2)
    assert world.query("SELECT count(*) FROM calls WHERE to_number = :n", n=SECOND) == [(0,)]


def test_the_last_number_on_the_dnc_list_ends_the_contact_as_skipped_dnc(world: World) -> None:
    add_dnc(world, SECOND)
    launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND]}],
           retry={"max_retries": 0, "retry_delay_minutes": 5})
    assert call_once(world, "no_answer") == PRIMARY
    later(world)
    tick(world.rt)
    row = participant(world)
    assert (row.status, row.phone, row.attempts) == ("skipped_dnc", SECOND, 1)


def test_a_number_put_on_the_dnc_list_after_the_tick_is_passed_over_by_the_dial(
        world: World) -> None:
    launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND]}])
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    add_dnc(world, PRIMARY)
    assert dial(world.rt, call_id) == "returned:dnc"
    row = participant(world)
    assert (row.phone, row.phone_index, row.phone_attempts, row.attempts, row.status) == (
        SECOND, 1, 0, 0, "pending")
    assert call_once(world, None) == SECOND


def test_the_frequency_cap_is_counted_on_the_secondary_number(world: World) -> None:
    world.rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(
        update={"max_calls_per_number_24h": 1}))
    assert world.rt.caps == FrequencyCaps(per_24h=1)
    # Another contact's primary is this contact's secondary: called once today already.
    launch(world, [{"phone": SECOND}, {"phone": PRIMARY, "secondary_phones": [SECOND]}],
           retry={"max_retries": 0, "retry_delay_minutes": 5})
    tick(world.rt)
    for call_id in world.dispatcher.dialed():
        assert dial(world.rt, call_id) == "placed"
        assert record_result(world.rt, call_id, outcome="no_answer") == "recorded"
    later(world)
    tick(world.rt)
    assert len(world.dispatcher.dialed()) == 2  # the secondary is at its cap: not dialed
    [(phone, status, reason, until)] = world.query(
        "SELECT phone, status, skip_reason, next_attempt_at FROM participants "
        "WHERE phone_index = 1")
    assert (phone, status, reason) == (SECOND, "retry_scheduled", "frequency_cap")
    assert until > world.clock.now()


def test_the_calendar_is_read_in_the_secondary_numbers_own_zone(world: World) -> None:
    # 10:00 in New York is 07:00 in Los Angeles: the window (09:00-18:00 local) is open
    # for the primary and not yet for the Pacific secondary.
    launch(world, [{"phone": PRIMARY, "secondary_phones": [LOS_ANGELES]}],
           retry={"max_retries": 0, "retry_delay_minutes": 5})
    assert call_once(world, "no_answer") == PRIMARY
    row = participant(world)
    assert row.phone == LOS_ANGELES
    assert row.next_attempt_at == OPEN_WINDOW.replace(hour=12)  # 09:00 in Los Angeles


def test_the_contacts_own_time_zone_governs_every_number(world: World) -> None:
    launch(world, [{"phone": PRIMARY, "secondary_phones": [LOS_ANGELES],
                    "timezone": "America/New_York"}],
           retry={"max_retries": 0, "retry_delay_minutes": 5})
    assert call_once(world, "no_answer") == PRIMARY
    assert participant(world).next_attempt_at == OPEN_WINDOW.replace(minute=5)


def test_a_new_cycle_starts_again_from_the_primary(world: World) -> None:
    from dialer.store.campaign_members import start_new_cycle

    campaign_id, _ = launch(world, [{"phone": PRIMARY, "secondary_phones": [SECOND]}],
                            retry={"max_retries": 0, "retry_delay_minutes": 5})
    assert call_once(world, "no_answer") == PRIMARY
    later(world)
    assert call_once(world, "answered") == SECOND
    with world.rt.transaction() as session:
        start_new_cycle(session, campaign_id, None, next_attempt_at=world.clock.now(),
                        now=world.clock.now())
    row = participant(world)
    assert (row.phone, row.phone_index, row.phone_attempts, row.attempts, row.status,
            row.answered_phone) == (PRIMARY, 0, 0, 0, "pending", None)
