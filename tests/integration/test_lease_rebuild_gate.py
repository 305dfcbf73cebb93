"""A Redis wipe landing inside a dial: the rebuild must still count that dial's channel.

The dial is run in process, held between taking its lease and committing, so
the wipe and the rebuild fall exactly in the gap a real worker leaves for a
few milliseconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dialer.client import DialerClient
from dialer.service.dial import dial
from dialer.service.leasing import ensure_leases_ready
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, in_process_runtime, waiting_on_locks
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration



def test_rebuild_during_a_dial_counts_that_dials_channel(clean_state, database_url, redis_url):
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    dialing = in_process_runtime(database_url, redis_url, origin)
    sweeping = in_process_runtime(database_url, redis_url, origin)
    with DialerClient(database_url=database_url, redis_url=redis_url,
                      time_origin=origin) as client:
        audience = client.create_audience("one", ny_contacts([["answered"]]))
        campaign_id = client.create_campaign(
            campaign_spec(audience.id, pacing={"channels": 1})).id
        client.start(campaign_id)
    tick(dialing)
    [call_id] = dialing.dispatcher.dials  # type: ignore[attr-defined]

    leased, go = threading.Event(), threading.Event()
    real_try_acquire = dialing.limiter.try_acquire

    def held_after_the_lease(*args: Any, **kwargs: Any) -> Any:
        leased.set()
        assert go.wait(30), "the test never let the dial go on"
        return real_try_acquire(*args, **kwargs)

    dialing.limiter.try_acquire = held_after_the_lease  # type: ignore[method-assign]
    outcome: list[str] = []
    dialer_thread = threading.Thread(target=lambda: outcome.append(dial(dialing, call_id)))
    dialer_thread.start()
    assert leased.wait(30), "the dial never took its lease"

    clean_state.flushdb()
    rebuilt: list[bool] = []
    sweeper = threading.Thread(target=lambda: rebuilt.append(
        ensure_leases_ready(sweeping, sweeping.clock.now())))
    sweeper.start()
    # Either the rebuild finished (the gate is missing) or it waits for the dial.
    wait_for(lambda: rebuilt or waiting_on_locks(database_url, "advisory"), timeout_s=10,
             what="the rebuild finished or waiting on the gate")
    go.set()
    dialer_thread.join(30)
    sweeper.join(30)
    try:
        assert outcome == ["placed"] and rebuilt == [True]
        now_s = sweeping.clock.now().timestamp()
        assert sweeping.leases.holders(campaign_id, now_s=now_s) == [call_id]
        assert sweeping.leases.in_use(campaign_id, now_s=now_s) == 1
    finally:
        dialing.close()
        sweeping.close()
