"""Results replayed, reordered, late, and for calls that never existed.

The provider holds every result; the test delivers them as another service
would, with a bare Celery app: each twice, each batch in reverse order of
placement, an unknown call id with every batch, and for a few contacts the
first attempt's result only after the dialer gave up on it and placed the
second attempt (it is reconciled: the call gets its real outcome). When the
campaigns are done, every result is replayed once more with another outcome.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from celery import Celery

from tests.chaos.harness import ContactPlan, Run, finish, leases_held, mixed, start_run
from tests.chaos.harness import worker_logs as logs_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos

LATE = ContactPlan(("no_answer", "answered"), provider="hold",
                   extra=(("test_deliver", "late_first"),))
# Results wait for a batch this long at most (real seconds): long enough for
# several calls to end together, far shorter than a call's deadline.
BATCH_WAIT_S = 0.4


class Courier:
    """Delivers held results the way a careless provider's webhooks would."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.app = Celery(broker=run.stack.env["DIALER_BROKER_URL"], set_as_current=False)
        self.delivered: dict[str, float] = {}
        self.batches: list[list[str]] = []
        self.unknown = 0
        self.sends = 0
        self._first_seen: dict[str, float] = {}

    def send(self, result: dict[str, Any]) -> None:
        self.app.send_task("dialer.call_result", kwargs=result)
        self.sends += 1

    def deliver_due(self) -> None:
        placed = {(e.campaign_id, e.contact_id, e.attempt) for e in self.run.ledger()}
        now = time.time()
        ready = []
        for held in self.run.stack.ledger.held_results():
            call_id = held["result"]["call_id"]
            if call_id in self.delivered:
                continue
            if held["deliver"] == "late_first" and held["attempt"] == 1 and (
                    held["campaign_id"], held["contact_id"], 2) not in placed:
                continue  # until the dialer has given up on it and called again
            ready.append(held)
            self._first_seen.setdefault(call_id, now)
        if not ready or (len(ready) < 3 and now - min(
                self._first_seen[h["result"]["call_id"]] for h in ready) < BATCH_WAIT_S):
            return
        for held in reversed(ready):
            call_id = held["result"]["call_id"]
            # Said before it is sent: from now on the dialer may free the channel.
            self.run.stack.ledger.mark_delivered(call_id)
            self.delivered[call_id] = time.time()
            self.send(held["result"])
            self.send(held["result"])
        self.batches.append([h["result"]["call_id"] for h in ready])
        self.send({"call_id": str(uuid.uuid4()), "outcome": "answered", "duration_s": 3.0})
        self.unknown += 1


def ignored(run: Run) -> int:
    return logs_of(run).count(": ignored")


def test_replayed_reordered_late_and_unknown_results_change_nothing(make_stack):
    # The late ones first: their deadline (about 13 real seconds) sets the pace.
    run = start_run(make_stack, [[LATE, LATE, *mixed(24, provider="hold")],
                                 mixed(24, provider="hold")])
    courier = Courier(run)

    def deliver_until_completed() -> bool:
        courier.deliver_due()
        return run.completed()

    wait_for(deliver_until_completed, timeout_s=120, interval_s=0.1,
             what="every campaign completed on delivered results")
    ledger = finish(run, timeout_s=10)

    # Each delivered result counted once: the late first attempts were closed as
    # failed at their deadline, and their result, arriving after the second
    # attempt was placed, gave the call its real outcome (reconciled) and
    # changed nothing else: a no_answer only confirms the retry.
    held = run.stack.ledger.held_results()
    late = {(h["campaign_id"], h["contact_id"]) for h in held if h["deliver"] == "late_first"}
    late_first = [e for e in ledger if e.attempt == 1 and (e.campaign_id, e.contact_id) in late]
    assert run.outcomes() == run.expected_outcomes()
    reconciled = [e for p in run.planned for e in run.client.events(p.campaign_id)
                  if e.action == "result_reconciled"]
    assert len(reconciled) == len(late_first)
    assert len(late_first) == 2
    for first in late_first:
        second = next(e for e in ledger if (e.campaign_id, e.contact_id, e.attempt)
                      == (first.campaign_id, first.contact_id, 2))
        assert courier.delivered[first.call_id] > second.start
    assert max(len(batch) for batch in courier.batches) >= 3, "no batch was reordered"
    # Replays and unknown ids are all ignored, and only they are (a late result
    # is reconciled once; its replay is ignored).
    expected_ignored = len(courier.delivered) + courier.unknown
    wait_for(lambda: ignored(run) >= expected_ignored, timeout_s=30,
             what=f"{expected_ignored} results ignored")
    assert ignored(run) == expected_ignored

    before = [run.client.get(p.campaign_id).metrics for p in run.planned]
    for entry in held:
        courier.send({**entry["result"], "outcome": "failed", "detail": "replayed"})
    courier.send({"call_id": "no-such-call", "outcome": "answered"})
    wait_for(lambda: ignored(run) >= expected_ignored + len(held) + 1, timeout_s=30,
             what="the final replays processed")
    assert [run.client.get(p.campaign_id).metrics for p in run.planned] == before
    assert leases_held(run) == 0

