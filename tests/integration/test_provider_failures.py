"""What a dial makes of a provider that refuses, fails or hangs (real PostgreSQL and Redis).

- refused (``CallRefused``): certainly not placed; the call is put back, its
  attempt not counted, the contact due again after the provider's retry-after;
- any other exception, or no answer within ``DIALER_PROVIDER_TIMEOUT_S``:
  unknown whether placed; the call keeps its channel, the contact is not
  dialed again, and the sweep closes the call as ``failed`` at its deadline.

The dial runs in process; a second runtime whose clock stands past the
call's deadline plays the later sweep.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from dialer.client import DialerClient
from dialer.provider import CallRefused, CallRequest
from dialer.service.dial import dial
from dialer.service.runtime import Runtime
from dialer.service.sweep import sweep
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, in_process_runtime
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

# Past ring (10) + max duration (120) + grace (40 at scale 1) after the claim.
PAST_DEADLINE = timedelta(seconds=200)


class Refusing:
    def __init__(self, retry_after_s: float | None) -> None:
        self.retry_after_s = retry_after_s

    def place_call(self, request: CallRequest) -> str:
        raise CallRefused("rate limited before dialing", retry_after_s=self.retry_after_s)


class Failing:
    def place_call(self, request: CallRequest) -> str:
        raise ConnectionResetError("carrier connection reset mid-request")


class Hanging:
    """Blocks until released (or 10 s, so a dial that waits for it fails instead of hanging)."""

    def __init__(self) -> None:
        self.entered, self.released = threading.Event(), threading.Event()
        self.returned = threading.Event()

    def place_call(self, request: CallRequest) -> str:
        self.entered.set()
        self.released.wait(10)
        self.returned.set()
        return "late-provider-id"


def one_contact_campaign(client: DialerClient) -> str:
    audience = client.create_audience("one", ny_contacts([["answered"]]))
    campaign_id = client.create_campaign(campaign_spec(audience.id)).id
    client.start(campaign_id)
    return campaign_id


def call_row(rt: Runtime, call_id: str) -> dict | None:
    with rt.engine.connect() as conn:
        row = conn.execute(text("SELECT status, placed_at, outcome, provider_call_id "
                                "FROM calls WHERE id = :id"), {"id": call_id}).first()
    return None if row is None else dict(row._mapping)


def in_use(rt: Runtime, campaign_id: str) -> int:
    return rt.leases.in_use(campaign_id, now_s=rt.clock.now().timestamp())


@pytest.fixture
def setup(clean_state, database_url, redis_url):
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    runtimes: list[Runtime] = []

    def runtime(at: datetime = OPEN_WINDOW, **overrides: object) -> Runtime:
        shifted = origin.replace(OPEN_WINDOW.isoformat(), at.isoformat())
        runtimes.append(in_process_runtime(database_url, redis_url, shifted, **overrides))
        return runtimes[-1]

    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    yield client, runtime
    client.close()
    for rt in runtimes:
        rt.close()


def test_a_refused_call_is_put_back_without_counting_its_attempt(setup):
    client, runtime = setup
    rt = runtime()
    campaign_id = one_contact_campaign(client)
    rt.provider = Refusing(retry_after_s=30)  # type: ignore[misc]
    tick(rt)
    [call_id] = rt.dispatcher.dials  # type: ignore[attr-defined]

    assert dial(rt, call_id) == "returned:provider_refused"

    assert call_row(rt, call_id) is None and client.calls(campaign_id) == []
    [participant] = client.participants(campaign_id)
    assert (participant.status, participant.attempts) == ("pending", 0)
    assert participant.next_attempt_at is not None
    assert participant.next_attempt_at >= rt.clock.now() + timedelta(seconds=29)
    assert in_use(rt, campaign_id) == 0
    assert [s.reason for s in client.skips(campaign_id)] == ["provider_refused"]

    # Due again after the retry-after, as its first attempt.
    later = runtime(OPEN_WINDOW + timedelta(seconds=31))
    tick(later)
    [again] = later.dispatcher.dials  # type: ignore[attr-defined]
    assert dial(later, again) == "placed"
    [call] = client.calls(campaign_id)
    assert (call.call_id, call.attempt) == (again, 1)


def test_a_provider_error_keeps_the_channel_until_the_sweep_closes_the_call(setup):
    client, runtime = setup
    rt = runtime()
    campaign_id = one_contact_campaign(client)
    rt.provider = Failing()  # type: ignore[misc]
    tick(rt)
    [call_id] = rt.dispatcher.dials  # type: ignore[attr-defined]

    assert dial(rt, call_id) == "unknown:error"

    # Unknown whether it rings: the channel stays held, the contact is not dialed again.
    row = call_row(rt, call_id)
    assert row is not None and row["placed_at"] is not None and row["outcome"] is None
    assert in_use(rt, campaign_id) == 1
    [participant] = client.participants(campaign_id)
    assert (participant.status, participant.attempts) == ("dialing", 1)
    tick(rt)
    sweep(rt)
    assert rt.dispatcher.dials == [call_id]  # type: ignore[attr-defined]
    assert call_row(rt, call_id)["outcome"] is None  # type: ignore[index]

    # At its deadline the sweep closes it as failed (docs/contract.md §4) and frees the channel.
    later = runtime(OPEN_WINDOW + PAST_DEADLINE)
    assert sweep(later).timed_out == 1
    [call] = client.calls(campaign_id)
    assert (call.call_id, call.outcome) == (call_id, "failed") and call.ended_at is not None
    assert in_use(later, campaign_id) == 0
    [participant] = client.participants(campaign_id)
    assert (participant.status, participant.attempts) == ("retry_scheduled", 1)


def test_a_hung_place_call_is_abandoned_at_the_provider_timeout(setup):
    client, runtime = setup
    rt = runtime(provider_timeout_s=0.5)
    campaign_id = one_contact_campaign(client)
    hanging = Hanging()
    rt.provider = hanging  # type: ignore[misc]
    tick(rt)
    [call_id] = rt.dispatcher.dials  # type: ignore[attr-defined]

    outcome = dial(rt, call_id)
    still_blocked = not hanging.returned.is_set()
    hanging.released.set()

    assert hanging.entered.is_set() and still_blocked, "the dial waited for the hung provider"
    assert outcome == "unknown:timeout"
    assert in_use(rt, campaign_id) == 1
    # When the provider finally answers, its id is kept; the call stays open for its result.
    wait_for(lambda: (call_row(rt, call_id) or {}).get("provider_call_id"), timeout_s=10,
             what="the late provider id recorded")
    assert call_row(rt, call_id)["status"] == "placed"  # type: ignore[index]
