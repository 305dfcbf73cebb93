"""A command that loses a deadlock is run again, not reported as a failure: a stop
deletes the queued calls another transaction may hold while it waits for the campaign's
row, as the dial's claim did before it took that row first (test_dispatch_lock_order.py)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, in_process_runtime, waiting_on_locks
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_a_stop_that_loses_a_deadlock_is_run_again(clean_state, database_url, redis_url):
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    rt = in_process_runtime(database_url, redis_url, origin)
    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    engine = sa.create_engine(database_url)
    try:
        audience = client.create_audience("two", ny_contacts([["answered"]] * 2))
        campaign_id = client.create_campaign(campaign_spec(audience.id)).id
        client.start(campaign_id)
        tick(rt)
        queued = rt.dispatcher.dials  # type: ignore[attr-defined]
        assert queued

        other = engine.connect()
        # The other side waits long before it looks for a deadlock: PostgreSQL aborts
        # the stop's transaction, whose check comes first.
        other.execute(sa.text("SET deadlock_timeout = '20s'"))
        other.execute(sa.text("UPDATE calls SET dispatch_at = dispatch_at WHERE id = :id"),
                      {"id": queued[0]})  # holds a queued call, as a dial's claim does

        outcome: list[object] = []

        def stop() -> None:
            try:
                outcome.append(client.stop(campaign_id).status)
            except Exception as exc:  # the test reports it below
                outcome.append(exc)

        stopper = threading.Thread(target=stop)
        stopper.start()
        # The stop holds the campaign's row and waits for the held call ...
        wait_for(lambda: waiting_on_locks(database_url, "transactionid", "tuple"),
                 timeout_s=10, what="the stop waiting for the held call")
        # ... which now waits for the campaign's row: a deadlock, broken by aborting
        # the stop, after which this side gets the row and lets go of everything.
        other.execute(sa.text("UPDATE campaigns SET priority = priority WHERE id = :id"),
                      {"id": campaign_id})
        other.rollback()
        other.close()
        stopper.join(30)
        assert outcome == ["stopped"], outcome
        assert {p.status for p in client.participants(campaign_id)} == {"canceled"}
    finally:
        engine.dispose()
        client.close()
        rt.close()
