"""A campaign whose stored spec cannot be dispatched, next to a healthy one, on real workers.

The poison is written straight into PostgreSQL (as a spec stored before the
bounds existed, or edited by hand, would be): ``skip_recently_completed_hours:
999999999``, which today overflows the date arithmetic of the tick and stops
every campaign. The poisoned campaign is created first, so each tick reaches
it before the healthy one. Some of the healthy campaign's calls never get a
result from the provider: only the sweep closes them, so the healthy campaign
completes only if the sweep keeps working too.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dialer.service.isolation import FAILURES_BEFORE_FAILED
from tests.chaos.harness import (
    CHANNELS,
    MAX_ATTEMPTS,
    ORG_CAP,
    TIME_SCALE,
    ContactPlan,
    Run,
    as_contacts,
    finish,
    leases_held,
    mixed,
)
from tests.chaos.invariants import Planned
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos

POISON = ("{safety,skip_recently_completed_hours}", "999999999")


def test_a_poisoned_campaign_fails_alone_and_the_healthy_one_completes(make_stack):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=TIME_SCALE, org_channel_cap=ORG_CAP)
    workers = [stack.start_worker(concurrency=2) for _ in range(2)]
    stack.start_beat()
    client = stack.client()
    spec = {"retry": {"max_retries": MAX_ATTEMPTS - 1, "retry_delay_minutes": 1},
            "safety": {"circuit_breaker": {"enabled": False}}}
    healthy_plans = [ContactPlan(("no_answer", "answered"), provider=("silent", None)),
                     *mixed(12)]
    ids = []
    for index, (name, plans) in enumerate([("poisoned", mixed(6)), ("healthy", healthy_plans)]):
        audience = client.create_audience(name, as_contacts(plans, first=100 * index, talk_s=25))
        ids.append(client.create_campaign(campaign_spec(
            audience.id, name=name, pacing={"channels": CHANNELS[index]}, **spec)).id)
    poisoned, healthy = ids
    engine = sa.create_engine(stack.env["DIALER_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET spec = jsonb_set(spec, :path, "
                             "CAST(:value AS jsonb)) WHERE id = :id"),
                     {"path": POISON[0], "value": POISON[1], "id": poisoned})
    engine.dispose()
    client.start(poisoned)
    client.start(healthy)
    run = Run(stack, client, [Planned(healthy, CHANNELS[1], MAX_ATTEMPTS, len(healthy_plans))],
              {healthy: healthy_plans}, ORG_CAP, workers)

    # The shared invariants over the healthy campaign; any call of the poisoned one
    # in the provider's ledger would be "a call for an unknown campaign".
    ledger = finish(run, timeout_s=45)

    assert run.outcomes() == run.expected_outcomes()
    assert any(e.outcome == "silent" for e in ledger), "the sweep had nothing to close"
    wait_for(lambda: client.get(poisoned).campaign.status == "failed", timeout_s=15,
             what="the poisoned campaign failed")
    detail = client.get(poisoned)
    assert detail.campaign.pause_reason == "dispatch_error"
    assert detail.metrics.calls_placed == 0
    events = client.events(poisoned)
    errors = [e.detail or "" for e in events if e.action == "dispatch_error"]
    assert len(errors) == FAILURES_BEFORE_FAILED
    assert all("safety.skip_recently_completed_hours" in d for d in errors), errors
    [failed] = [e.detail or "" for e in events if e.action == "failed"]
    assert f"{FAILURES_BEFORE_FAILED} consecutive dispatch errors" in failed
    assert {p.status for p in client.participants(poisoned)} == {"canceled"}
    wait_for(lambda: leases_held(run) == 0, timeout_s=10, what="every channel lease released")
