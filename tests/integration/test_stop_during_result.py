"""A stop landing while a result is being recorded: no retry survives in the stopped campaign.

The result is recorded in process and held after its first statement (the
call ended, its participant locked), so the stop falls exactly in the gap a
real worker leaves for a millisecond.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dialer.client import DialerClient
from dialer.service import results
from dialer.service.dial import dial
from dialer.service.steps import settle
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, in_process_runtime, waiting_on_locks
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_a_stop_during_a_no_answer_result_cancels_the_retry(clean_state, database_url,
                                                           redis_url, monkeypatch):
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    rt = in_process_runtime(database_url, redis_url, origin)
    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    audience = client.create_audience("one", ny_contacts([["no_answer"]]))
    campaign_id = client.create_campaign(campaign_spec(audience.id)).id
    client.start(campaign_id)
    tick(rt)
    [call_id] = rt.dispatcher.dials  # type: ignore[attr-defined]
    assert dial(rt, call_id) == "placed"

    ended, go = threading.Event(), threading.Event()
    real_cached_spec = settle.cached_spec

    def held_after_ending_the_call(*args: Any, **kwargs: Any) -> Any:
        ended.set()
        assert go.wait(30), "the test never let the result go on"
        return real_cached_spec(*args, **kwargs)

    monkeypatch.setattr(settle, "cached_spec", held_after_ending_the_call)
    recorded: list[str] = []
    result_thread = threading.Thread(target=lambda: recorded.append(
        results.record_result(rt, call_id, outcome="no_answer")))
    result_thread.start()
    assert ended.wait(30), "the result never ended the call"

    stopped: list[str] = []
    stop_thread = threading.Thread(target=lambda: stopped.append(client.stop(campaign_id).status))
    stop_thread.start()
    # Either the stop finished (nothing orders it after the result) or it waits for it.
    wait_for(lambda: stopped or waiting_on_locks(database_url, "tuple", "transactionid"),
             timeout_s=10, what="the stop finished or waiting on the result")
    go.set()
    result_thread.join(30)
    stop_thread.join(30)
    try:
        assert recorded == ["recorded"] and stopped == ["stopped"]
        [participant] = client.participants(campaign_id)
        assert participant.status == "canceled" and participant.next_attempt_at is None
        assert participant.last_outcome == "no_answer"
    finally:
        client.close()
        rt.close()
