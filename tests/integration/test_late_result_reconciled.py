"""A result that arrives after the sweep closed its call: reconciled, in each state of the retry.

In process, against the real PostgreSQL and Redis: the sweep's closing is the
same ``record_result`` it calls, and the retry is queued or placed by the real
tick and dial before the late answer comes in.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.service.dial import dial
from dialer.service.results import DEADLINE_DETAIL, record_result
from dialer.service.tick import tick
from tests.support.in_process import OPEN_WINDOW, in_process_runtime
from tests.support.postgres import sessions_waiting_on_locks
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("retry", ["waiting", "queued", "placed"])
def test_a_late_answer_completes_the_contact_and_cancels_what_it_can(
        clean_state, database_url, redis_url, retry):
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    rt = in_process_runtime(database_url, redis_url, origin)
    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    try:
        campaign_id, first = _first_call_placed(rt, client)
        # The sweep, at the call's deadline.
        assert record_result(rt, first, outcome="failed", detail=DEADLINE_DETAIL) == "recorded"
        assert client.participants(campaign_id)[0].status == "retry_scheduled"
        second = None
        if retry in ("queued", "placed"):
            with rt.engine.begin() as conn:  # the retry delay has passed
                conn.execute(sa.text("UPDATE participants SET next_attempt_at = :now"),
                             {"now": rt.clock.now()})
            tick(rt)
            second = rt.dispatcher.dials[-1]  # type: ignore[attr-defined]
            assert second != first
            if retry == "placed":
                assert dial(rt, second) == "placed"

        late = record_result(rt, first, outcome="answered", duration_s=42.0, detail="webhook")

        assert late == "reconciled"
        [participant] = client.participants(campaign_id)
        assert participant.status == "completed" and participant.next_attempt_at is None
        assert participant.last_outcome == "answered"
        calls = {c.call_id: c for c in client.calls(campaign_id)}
        assert calls[first].outcome == "answered" and calls[first].duration_s == 42.0
        [event] = [e for e in client.events(campaign_id) if e.action == "result_reconciled"]
        assert "answered" in event.detail
        detail = client.get(campaign_id)
        assert detail.metrics.contacts_connected == 1
        if retry == "waiting":
            assert participant.attempts == 1 and set(calls) == {first}
            assert detail.campaign.status == "completed"
        elif retry == "queued":
            # The unplaced retry is gone, its attempt not counted, its dial a no-op.
            assert participant.attempts == 1 and set(calls) == {first}
            assert "queued retry canceled" in event.detail
            assert dial(rt, second) == "not_queued"
            assert detail.campaign.status == "completed"
        else:
            # Placed: it cannot be undone; its own result keeps the contact completed.
            assert participant.attempts == 2 and "already placed" in event.detail
            assert detail.campaign.status == "running" and detail.metrics.in_progress == 1
            assert record_result(rt, second, outcome="no_answer") == "recorded"
            [participant] = client.participants(campaign_id)
            assert participant.status == "completed" and participant.next_attempt_at is None
            assert client.get(campaign_id).campaign.status == "completed"
        # A replay of the late result changes nothing more.
        assert record_result(rt, first, outcome="answered", detail="webhook") == "ignored"
    finally:
        client.close()
        rt.close()


def test_a_late_answer_while_its_retry_is_being_claimed_keeps_the_contact_completed(
        clean_state, database_url, redis_url):
    """The reconcile commits between a dial's claim and its mark-placed: the retry is
    placed (it cannot be undone), but the contact stays completed through its result."""
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    rt = in_process_runtime(database_url, redis_url, origin)
    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    holder = sa.create_engine(database_url)
    try:
        campaign_id, first = _first_call_placed(rt, client)
        assert record_result(rt, first, outcome="failed", detail=DEADLINE_DETAIL) == "recorded"
        with rt.engine.begin() as conn:  # the retry delay has passed
            conn.execute(sa.text("UPDATE participants SET next_attempt_at = :now"),
                         {"now": rt.clock.now()})
        tick(rt)
        second = rt.dispatcher.dials[-1]  # type: ignore[attr-defined]

        outcomes: dict[str, str] = {}
        with holder.connect() as lock:
            # Both wait on the contact's row: the late answer first, then the dial
            # that has claimed the retry and is about to mark it placed.
            lock.execute(sa.text("SELECT 1 FROM participants FOR UPDATE"))
            late = threading.Thread(target=lambda: outcomes.update(late=record_result(
                rt, first, outcome="answered", detail="webhook")))
            late.start()
            wait_for(lambda: sessions_waiting_on_locks(holder) >= 1, timeout_s=10,
                     what="the late answer waiting on the contact")
            placing = threading.Thread(target=lambda: outcomes.update(dial=dial(rt, second)))
            placing.start()
            wait_for(lambda: sessions_waiting_on_locks(holder) >= 2, timeout_s=10,
                     what="the dial waiting on the contact")
            lock.rollback()
        late.join(10)
        placing.join(10)

        assert outcomes == {"late": "reconciled", "dial": "placed"}
        [participant] = client.participants(campaign_id)
        assert participant.status == "completed", "the dial reopened a completed contact"
        assert record_result(rt, second, outcome="no_answer") == "recorded"
        [participant] = client.participants(campaign_id)
        assert participant.status == "completed" and participant.next_attempt_at is None
        assert participant.last_outcome == "answered"
        assert client.get(campaign_id).campaign.status == "completed"
    finally:
        holder.dispose()
        client.close()
        rt.close()


def test_a_result_retried_after_its_commit_still_frees_the_channel(
        clean_state, database_url, redis_url):
    """The first try committed but never released its lease (a soft time limit, or
    Redis away at that moment): the retry finds the call ended and releases it."""
    origin = f"{OPEN_WINDOW.isoformat()}@{time.time():.6f}"
    rt = in_process_runtime(database_url, redis_url, origin)
    client = DialerClient(database_url=database_url, redis_url=redis_url, time_origin=origin)
    try:
        campaign_id, call = _first_call_placed(rt, client)
        now_s = rt.clock.now().timestamp()
        held = rt.leases.holders(campaign_id, now_s=now_s)
        assert held == [call]
        release = rt.leases.release
        rt.leases.release = lambda *a, **k: None  # type: ignore[method-assign]
        try:
            assert record_result(rt, call, outcome="answered") == "recorded"
        finally:
            rt.leases.release = release  # type: ignore[method-assign]
        assert rt.leases.holders(campaign_id, now_s=now_s) == [call]

        assert record_result(rt, call, outcome="answered") == "ignored"
        assert rt.leases.holders(campaign_id, now_s=now_s) == []
    finally:
        client.close()
        rt.close()


def _first_call_placed(rt: Any, client: DialerClient) -> tuple[str, str]:
    """A running campaign of one contact, its first call placed: (campaign id, call id)."""
    audience = client.create_audience("one", ny_contacts([["answered"]]))
    campaign_id = client.create_campaign(campaign_spec(audience.id)).id
    client.start(campaign_id)
    tick(rt)
    [first] = rt.dispatcher.dials
    assert dial(rt, first) == "placed"
    return campaign_id, first
