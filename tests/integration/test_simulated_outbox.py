"""The simulated provider's outbox on the real Redis: owed results are re-sent once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.coordination import redis_keys
from dialer.providers.simulated import SimulatedProvider
from tests.support.clock import FakeClock
from tests.unit.test_simulated_provider import RecordingDispatcher, request

pytestmark = pytest.mark.integration


def test_poll_resends_only_overdue_results_of_calls_still_open(clean_state):
    clock = FakeClock(datetime(2026, 3, 2, 15, tzinfo=UTC), time_scale=10)
    dispatcher = RecordingDispatcher()
    sim = SimulatedProvider(dispatcher=dispatcher, clock=clock, redis=clean_state)
    for contact_id in (1, 2, 3):
        sim.place_call(request(contact_id=contact_id, sim_outcomes=["answered"], sim_ring_s=5,
                               sim_duration_s=25))
    assert len(dispatcher.results) == 3  # the countdown results
    dispatcher.results.clear()

    # Not yet overdue: 30 s of call plus 3 real seconds (30 simulated) of slack.
    clock.advance(45)
    assert sim.poll(now=clock.now(), open_calls=lambda ids: set(ids)) == 0
    clock.advance(30)
    still_open = {"call-2-1", "call-3-1"}
    assert sim.poll(now=clock.now(), open_calls=lambda ids: set(ids) & still_open) == 2
    assert sorted(r["call_id"] for r in dispatcher.results) == sorted(still_open)
    assert clean_state.zcard(redis_keys.sim_outbox()) == 0
    assert sim.poll(now=clock.now(), open_calls=lambda ids: set(ids)) == 0
