"""A provider that raises (placed or not, unknown) for some contacts, is silent for others."""

from __future__ import annotations

import pytest

from tests.chaos.harness import ContactPlan, finish, leases_held, mixed, start_run
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos


def faulty_audience(*, silent: int, silent_later: int) -> list[ContactPlan]:
    # Silent ones first: each holds a channel until its deadline (about 13 real
    # seconds), which sets the pace of the whole run. So does each raised call:
    # unknown whether it rings, it keeps its channel until the same deadline.
    return [
        *[ContactPlan(("no_answer", "answered"), provider=("silent", None))] * silent,
        *[ContactPlan(("busy",), provider=(None, "silent", "raise"))] * silent_later,
        ContactPlan(("answered",), provider="raise"),
        *[ContactPlan(("answered",), provider=("raise", None))] * 2,
        *mixed(18),
    ]


def test_raising_and_silent_provider_calls_fail_free_their_channel_and_retry(make_stack):
    # The breaker would pause a campaign whose failures are the point here.
    run = start_run(make_stack, [faulty_audience(silent=2, silent_later=1),
                                 faulty_audience(silent=1, silent_later=0)],
                    spec={"safety": {"circuit_breaker": {"enabled": False}}})

    ledger = finish(run, timeout_s=120)

    # Raised and silent attempts became failed ones and were retried like any other.
    assert run.outcomes() == run.expected_outcomes()
    assert run.statuses_by_count() == run.expected_statuses()
    assert len(ledger) == sum(run.expected_outcomes().values())
    assert {e.outcome for e in ledger} >= {"raised", "silent", "answered"}
    wait_for(lambda: leases_held(run) == 0, timeout_s=10, what="every channel lease released")
