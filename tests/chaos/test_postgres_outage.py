"""PostgreSQL gone for a few seconds mid-run: workers reconnect, nothing lost or doubled."""

from __future__ import annotations

import re
import time

import pytest

from tests.chaos.faults import postgres_outage
from tests.chaos.harness import finish, mixed, outcome_mismatches, start_run, worker_logs
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos

OUTAGE_S = 4.0


def test_postgres_outage_mid_run_loses_and_doubles_nothing(make_stack, database_url):
    run = start_run(make_stack, [mixed(30), mixed(30)], talk_s=40)
    wait_for(lambda: len(run.ledger()) >= 12, timeout_s=30, what="twelve calls placed")
    placed_before = len(run.ledger())

    with postgres_outage(database_url) as outage:
        now = time.time()
        in_flight = sum(1 for e in run.ledger() if e.start <= now < e.end)
        outage.hold(OUTAGE_S)

    ledger = finish(run, timeout_s=120)

    assert in_flight > 0, "the outage found no call in flight"
    assert outage.terminated > 0, "no connection was dropped"
    logs = worker_logs(run)
    assert re.search(r"dialer.call_result\[[^]]+\] retry: Retry in .*OperationalError", logs), (
        "no result met the outage and was retried")
    assert len(ledger) > placed_before
    # Results that met the outage were retried until PostgreSQL came back.
    assert outcome_mismatches(run, ledger) == []
