"""Workers SIGKILLed mid-run, three times, each replaced: nothing lost, nothing doubled."""

from __future__ import annotations

import time

import pytest

from tests.chaos.harness import finish, mixed, outcome_mismatches, owner_of, start_run
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos


def test_workers_killed_three_times_mid_run_lose_and_double_nothing(make_stack):
    # Calls of a real second, so that each kill finds calls in flight.
    run = start_run(make_stack, [mixed(36), mixed(36)], talk_s=55)
    in_flight_at_kills = []
    for _ in range(3):
        placed = len(run.ledger())
        wait_for(lambda placed=placed: len(run.ledger()) >= placed + 6, timeout_s=30,
                 what="six more calls placed before the next kill")
        ledger = run.ledger()
        # The worker that placed the latest call: it holds dials and results in memory.
        victim = next(w for e in reversed(ledger) if (w := owner_of(run, e.pid)) is not None)
        now = time.time()
        in_flight_at_kills.append(sum(1 for e in ledger if e.start <= now < e.end))
        assert not run.completed()
        run.stack.kill(victim)
        run.stack.start_worker(concurrency=2)

    ledger = finish(run, timeout_s=120)

    assert min(in_flight_at_kills) > 0, "a kill found no call in flight"
    # Results owed by a dead worker's countdowns are redelivered, not lost:
    # no answered contact is closed as failed and called again.
    assert outcome_mismatches(run, ledger) == []
    # Every contact was reached: none was lost with a dead worker.
    for plan in run.planned:
        reached = {e.contact_id for e in ledger if e.campaign_id == plan.campaign_id}
        assert reached == {p.contact_id for p in run.client.participants(plan.campaign_id)}
