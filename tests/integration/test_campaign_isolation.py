"""One campaign whose stored spec cannot be dispatched never stops the others.

The poison is written straight into PostgreSQL, as a spec stored before the
bounds existed (or edited by hand) would be: validation at creation cannot
catch it. The tick and the sweep run in this process against the real
PostgreSQL and Redis.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.service.dial import dial
from dialer.service.isolation import FAILURES_BEFORE_FAILED, describe
from dialer.service.runtime import Runtime
from dialer.service.sweep import sweep
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, in_process_runtime
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

# Each makes today's tick raise for every campaign, or no longer parses at all.
POISONS: dict[str, tuple[str, str]] = {
    # path in the spec, JSON value
    "skip_window_overflows": ("{safety,skip_recently_completed_hours}", "999999999"),
    "infinite_spacing": ("{pacing,spacing_seconds}", '"Infinity"'),
    "no_longer_parses": ("{pacing}", '"fast"'),
}


@pytest.fixture
def setup(clean_state, database_url: str, redis_url: str) -> Iterator[dict[str, Any]]:
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    runtimes: list[Runtime] = []

    def runtime() -> Runtime:
        runtimes.append(in_process_runtime(database_url, redis_url, origin))
        return runtimes[-1]

    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    engine = sa.create_engine(database_url)
    yield {"runtime": runtime, "client": client, "engine": engine}
    client.close()
    engine.dispose()
    for rt in runtimes:
        rt.close()


def new_campaign(client: DialerClient, name: str, start: int, count: int = 2) -> str:
    audience = client.create_audience(name, ny_contacts([["answered"]] * count, start=start))
    campaign_id = client.create_campaign(campaign_spec(audience.id, name=name)).id
    client.start(campaign_id)
    return campaign_id


def poison(engine: sa.Engine, campaign_id: str, kind: str) -> None:
    path, value = POISONS[kind]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET spec = jsonb_set(spec, :path, "
                             "CAST(:value AS jsonb)) WHERE id = :id"),
                     {"path": path, "value": value, "id": campaign_id})


def actions(client: DialerClient, campaign_id: str, action: str) -> list[str | None]:
    return [e.detail for e in client.events(campaign_id) if e.action == action]


def calls_of(engine: sa.Engine, campaign_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.text("SELECT id FROM calls WHERE campaign_id = :id"),
                                 {"id": campaign_id}))


@pytest.mark.parametrize("kind", sorted(POISONS))
def test_a_poisoned_campaign_is_marked_and_the_tick_goes_on(setup, kind, caplog):
    client, engine = setup["client"], setup["engine"]
    # Created first and so dispatched first: today its error ends the tick right there.
    poisoned = new_campaign(client, "poisoned", start=0)
    healthy = new_campaign(client, "healthy", start=10)
    poison(engine, poisoned, kind)
    rt = setup["runtime"]()

    with caplog.at_level(logging.WARNING, logger="dialer"):
        report = tick(rt)

    assert report.queued.get(healthy) == 2 and len(calls_of(engine, healthy)) == 2
    assert calls_of(engine, poisoned) == []
    [detail] = actions(client, poisoned, "dispatch_error")
    # The detail names the step, the field whose stored value is refused, and the count.
    field = POISONS[kind][0].strip("{}").replace(",", ".")
    assert detail and detail.startswith("tick: ") and field in detail, detail
    assert "(1 of 5 in a row)" in detail and "+1212" not in detail
    assert client.get(poisoned).campaign.status == "running"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(poisoned in m and "dispatch" in m for m in warnings), warnings
    assert not any("+1212" in m for m in warnings)


def test_repeated_failures_fail_the_campaign_across_restarts(setup):
    client, engine = setup["client"], setup["engine"]
    poisoned = new_campaign(client, "poisoned", start=0)
    healthy = new_campaign(client, "healthy", start=10, count=40)
    poison(engine, poisoned, "skip_window_overflows")

    # The count lives in PostgreSQL: a worker restarted halfway goes on counting.
    first = setup["runtime"]()
    for _ in range(FAILURES_BEFORE_FAILED - 1):
        tick(first)
    first.close()
    assert client.get(poisoned).campaign.status == "running"
    second = setup["runtime"]()
    tick(second)

    detail = client.get(poisoned)
    assert detail.campaign.status == "failed"
    assert detail.campaign.pause_reason == "dispatch_error"
    assert len(actions(client, poisoned, "dispatch_error")) == FAILURES_BEFORE_FAILED
    [why] = actions(client, poisoned, "failed")
    assert why and f"{FAILURES_BEFORE_FAILED} consecutive" in why
    # The campaign carries why and when (issue 14): the event's words, the tick's instant.
    assert detail.campaign.error is not None and why.startswith(detail.campaign.error)
    assert detail.campaign.failed_at is not None
    # A failed campaign is no longer dispatched; the healthy one is still served.
    tick(second)
    assert len(actions(client, poisoned, "dispatch_error")) == FAILURES_BEFORE_FAILED
    assert client.get(healthy).campaign.status == "running"
    assert len(calls_of(engine, healthy)) > 0


def test_a_success_in_between_starts_the_count_again(setup):
    client, engine = setup["client"], setup["engine"]
    poisoned = new_campaign(client, "flaky", start=0, count=40)
    with engine.connect() as conn:
        good_spec = conn.scalar(sa.text("SELECT spec FROM campaigns WHERE id = :id"),
                                {"id": poisoned})
    rt = setup["runtime"]()
    for _ in range(2):
        poison(engine, poisoned, "infinite_spacing")
        for _ in range(FAILURES_BEFORE_FAILED - 1):
            tick(rt)
        with engine.begin() as conn:  # repaired: the next dispatch succeeds
            conn.execute(sa.text("UPDATE campaigns SET spec = CAST(:spec AS jsonb) "
                                 "WHERE id = :id"), {"spec": json.dumps(good_spec),
                                                     "id": poisoned})
        tick(rt)
    assert client.get(poisoned).campaign.status == "running"
    assert len(actions(client, poisoned, "dispatch_error")) == 2 * (FAILURES_BEFORE_FAILED - 1)


def test_the_sweep_goes_on_past_a_campaign_whose_spec_no_longer_parses(setup):
    client, engine = setup["client"], setup["engine"]
    poisoned = new_campaign(client, "poisoned", start=0, count=1)
    healthy = new_campaign(client, "healthy", start=10, count=1)
    rt = setup["runtime"]()
    tick(rt)
    for call_id in rt.dispatcher.dials:  # type: ignore[attr-defined]
        assert dial(rt, call_id) == "placed"
    # Both calls are past their deadline with no result; one campaign's spec is broken.
    poison(engine, poisoned, "no_longer_parses")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE calls SET deadline_at = deadline_at - interval '1 day'"))

    report = sweep(rt)

    assert report.timed_out == 1
    [call] = client.calls(healthy)
    assert call.outcome == "failed" and call.ended_at is not None
    [detail] = actions(client, poisoned, "dispatch_error")
    assert detail and "sweep" in detail
    # The healthy campaign finishes at the next pass; the poisoned one fails in the end.
    for _ in range(FAILURES_BEFORE_FAILED):
        sweep(rt)
    assert client.get(poisoned).campaign.status == "failed"
    assert client.get(healthy).campaign.status in ("running", "completed")


def test_an_infrastructure_error_ends_the_pass_and_counts_against_no_campaign(setup,
                                                                              monkeypatch):
    client = setup["client"]
    campaign_id = new_campaign(client, "innocent", start=0)
    rt = setup["runtime"]()
    from dialer.service import tick as tick_module

    def connection_lost(*args: Any, **kwargs: Any) -> Any:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(tick_module, "dispatch_campaign", connection_lost)
    with pytest.raises(sa.exc.OperationalError):
        tick(rt)
    assert actions(client, campaign_id, "dispatch_error") == []


def test_the_recorded_reason_masks_what_could_be_a_phone_number():
    reason = describe(ValueError("no route to +1 (212) 555-0123 or 12125550199\nsecond line"))
    assert reason.startswith("ValueError: no route to ")
    assert not any(ch.isdigit() for ch in reason) and "second line" not in reason
