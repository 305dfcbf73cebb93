"""A result is never lost, and an answered contact never called again, by our own faults.

Every call here is held by the recording provider (``"hold"``): the test
delivers each result itself, as a carrier's webhook service would, through a
bare Celery app onto the results queue. Held results never reach the
provider's outbox, so nothing but the broker and the dialer's own code can
save a result the fault would lose. Every contact answers on its first
attempt: a lost result is closed as ``failed`` at the call's deadline and the
contact is called again, which the shared invariants catch ("dialed again
after it answered").

One fault per test: the pool process running a result is killed; the
worker's main process dies with results reserved; the coordination Redis db
is flushed with results queued; PostgreSQL stays away for more retries than
the old budget; a result arrives after the sweep closed its call.
"""

from __future__ import annotations

import os
import re
import signal
from collections import Counter
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from celery import Celery

from tests.chaos.faults import postgres_outage
from tests.chaos.harness import (
    ContactPlan,
    Run,
    finish,
    outcome_mismatches,
    start_run,
    worker_logs,
)
from tests.support.postgres import sessions_waiting_on_locks
from tests.support.stack import wait_for
from workers.app import RESULTS_QUEUE

pytestmark = pytest.mark.chaos

ANSWERS = ContactPlan(("answered",), provider="hold")


def answering(count: int) -> list[ContactPlan]:
    return [ANSWERS] * count


class Webhook:
    """Sends held results the way a carrier's webhook service would: by task name."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.app = Celery(broker=run.stack.env["DIALER_BROKER_URL"], set_as_current=False)
        self.sent: set[str] = set()

    def pending(self) -> list[dict[str, Any]]:
        return [h["result"] for h in self.run.stack.ledger.held_results()
                if h["result"]["call_id"] not in self.sent]

    def send(self, result: dict[str, Any], *, countdown_s: float | None = None) -> str:
        # Said before it is sent: from now on the dialer may free the channel.
        self.run.stack.ledger.mark_delivered(result["call_id"])
        self.sent.add(result["call_id"])
        return self.app.send_task("dialer.call_result", kwargs=result, queue=RESULTS_QUEUE,
                                  countdown=countdown_s).id

    def send_pending(self, *, skip: set[str] = frozenset()) -> int:  # type: ignore[assignment]
        results = [r for r in self.pending() if r["call_id"] not in skip]
        for result in results:
            self.send(result)
        return len(results)

    def until_completed(self, *, timeout_s: float) -> None:
        def deliver() -> bool:
            self.send_pending()
            return self.run.completed()

        wait_for(deliver, timeout_s=timeout_s, interval_s=0.1,
                 what=f"every campaign completed on delivered results (now {self.run.statuses()})")


def finish_on_delivered_results(run: Run, webhook: Webhook,
                                delivered: list[dict[str, Any]]) -> list[Any]:
    """Deliver what is still held until both campaigns complete; the results the fault
    met must have kept their answer, and every contact was called once."""
    webhook.until_completed(timeout_s=60)
    ledger = finish(run, timeout_s=10)
    kept = {c.call_id: c.outcome for p in run.planned for c in run.client.calls(p.campaign_id)}
    assert all(kept[r["call_id"]] == "answered" for r in delivered)
    assert_each_contact_called_once(run, ledger)
    return ledger


def assert_each_contact_called_once(run: Run, ledger: list[Any]) -> None:
    """Every contact answered its first call the provider saw: exactly one call each
    reached the provider, kept as answered.

    A worker killed between recording a dial and handing it to the provider
    leaves a call the provider never saw: the sweep closes it as ``failed`` at
    its deadline and the contact is dialed again. That is the dial's fault
    (the dialer cannot know the call was not placed), not a lost result; it
    shows as a call absent from the provider's ledger.
    """
    assert outcome_mismatches(run, ledger) == []
    per_contact = Counter((e.campaign_id, e.contact_id) for e in ledger)
    assert set(per_contact.values()) == {1}, per_contact
    seen_by_provider = {e.call_id for e in ledger}
    never_placed = [c for p in run.planned for c in run.client.calls(p.campaign_id)
                    if c.call_id not in seen_by_provider]
    assert {c.outcome for c in never_placed} <= {"failed"}, never_placed
    assert run.outcomes() == Counter(answered=len(ledger), failed=len(never_placed))
    assert run.statuses_by_count() == Counter(completed=len(ledger))


def test_result_survives_the_pool_process_running_it_being_killed(make_stack, database_url):
    run = start_run(make_stack, [answering(6), answering(6)])
    webhook = Webhook(run)
    victim = wait_for(lambda: next(iter(webhook.pending()), None), timeout_s=30,
                      what="a call placed")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as lock:
            # The result's statement waits on this row lock: the pool process is
            # inside the task, with its message reserved, when it is killed.
            lock.execute(sa.text("SELECT 1 FROM calls WHERE id = :id FOR UPDATE"),
                         {"id": victim["call_id"]})
            task_id = webhook.send(victim)
            pid = wait_for(lambda: _pool_pid_running(webhook.app, task_id),
                           timeout_s=20, interval_s=0.2,
                           what="the result running in a pool process")
            wait_for(lambda: sessions_waiting_on_locks(engine) >= 1, timeout_s=10,
                     what="the result waiting on the call's row")
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: "WorkerLostError" in worker_logs(run) or "SIGKILL" in worker_logs(run),
                     timeout_s=10, what="the worker noticing its lost process")
            lock.rollback()
    finally:
        engine.dispose()

    finish_on_delivered_results(run, webhook, [victim])


def test_results_reserved_by_a_dead_worker_come_back_before_the_deadline(make_stack):
    # A visibility timeout of two seconds, checked every second: the deployment
    # default is longer (see ARCHITECTURE.md), the rule is the same.
    run = start_run(make_stack, [answering(6), answering(6)], extra_env={
        "DIALER_BROKER_VISIBILITY_TIMEOUT_S": "2", "DIALER_BROKER_RESTORE_INTERVAL_S": "1"})
    webhook = Webhook(run)
    wait_for(lambda: len(webhook.pending()) >= 4, timeout_s=30, what="four calls placed")
    reserved = webhook.pending()
    # A countdown: each worker takes its share at once and keeps it, unacknowledged.
    for result in reserved:
        webhook.send(result, countdown_s=6.0)
    # Held by the workers as ETA tasks (Redis: in its "unacked" hash; RabbitMQ:
    # delivered, unacknowledged on the worker's channel).
    wait_for(lambda: _scheduled(webhook.app) >= len(reserved), timeout_s=10,
             what=f"{len(reserved)} results reserved by the workers")
    for worker in list(run.workers_started):
        run.stack.kill(worker)  # the main process and its pool, SIGKILL: nothing acks
    run.stack.start_worker(concurrency=2)

    finish_on_delivered_results(run, webhook, reserved)


def test_results_queued_in_the_broker_survive_a_flush_of_the_coordination_db(make_stack):
    run = start_run(make_stack, [answering(6), answering(6)])
    webhook = Webhook(run)
    wait_for(lambda: len(webhook.pending()) >= 4, timeout_s=30, what="four calls placed")
    for worker in list(run.workers_started):
        run.stack.kill(worker)
    queued = webhook.pending()
    for result in queued:
        webhook.send(result)  # no worker is running: they wait in the broker
    coordination = redis.Redis.from_url(run.stack.env["DIALER_REDIS_URL"])
    coordination.flushdb()
    coordination.close()
    run.stack.start_worker(concurrency=2)
    run.stack.start_worker(concurrency=2)

    finish_on_delivered_results(run, webhook, queued)


# The old retry budget of a result: 20 retries (max_retries of DialerTask).
OLD_MAX_RETRIES = 20
OUTAGE_S = 18.0


def test_results_retry_for_as_long_as_postgres_is_away(make_stack, database_url):
    # Backoff capped at one second (the deployment default is 30 s): more
    # retries than the old budget fit in a short outage. Calls may last half
    # an hour, so no deadline passes during the outage.
    run = start_run(make_stack, [answering(6), answering(6)],
                    spec={"call_handling": {"ring_timeout_s": 10, "max_duration_s": 1800}},
                    extra_env={"DIALER_RESULT_RETRY_BACKOFF_MAX_S": "1"})
    webhook = Webhook(run)
    wait_for(lambda: len(webhook.pending()) >= 4, timeout_s=30, what="four calls placed")

    with postgres_outage(database_url) as outage:
        outage.terminate()
        met_outage = webhook.pending()
        for result in met_outage:
            webhook.send(result)
        outage.hold(OUTAGE_S)

    finish_on_delivered_results(run, webhook, met_outage)

    retries = Counter(re.findall(r"dialer\.call_result\[([0-9a-f-]+)\] retry: Retry in",
                                 worker_logs(run)))
    assert retries, "no result met the outage and was retried"
    assert max(retries.values()) > OLD_MAX_RETRIES, retries


def test_a_result_after_the_sweep_closed_its_call_is_reconciled(make_stack):
    # A retry waits five real seconds: the late results arrive before it is placed.
    run = start_run(make_stack, [answering(6), answering(6)],
                    spec={"retry": {"max_retries": 2, "retry_delay_minutes": 5}})
    webhook = Webhook(run)
    late = wait_for(lambda: webhook.pending()[:2] if len(webhook.pending()) >= 2 else None,
                    timeout_s=30, what="two calls placed")
    late_ids = {r["call_id"] for r in late}

    def closed_by_sweep() -> bool:
        webhook.send_pending(skip=late_ids)
        calls = {c.call_id: c for p in run.planned for c in run.client.calls(p.campaign_id)}
        return all(calls[i].outcome == "failed" for i in late_ids)

    wait_for(closed_by_sweep, timeout_s=40, interval_s=0.1,
             what="the sweep closing the late calls as failed")
    for result in late:
        webhook.send(result)

    finish_on_delivered_results(run, webhook, late)

    for plan in run.planned:
        reconciled = [e for e in run.client.events(plan.campaign_id)
                      if e.action == "result_reconciled"]
        mine = {c.call_id for c in run.client.calls(plan.campaign_id)} & late_ids
        assert len(reconciled) == len(mine)
        assert all("answered" in (e.detail or "") for e in reconciled)


def _pool_pid_running(app: Celery, task_id: str) -> int | None:
    """The pool process running the task, as its worker reports it."""
    active = app.control.inspect(timeout=1.0).active() or {}
    for tasks in active.values():
        for task in tasks:
            if task.get("id") == task_id and task.get("worker_pid"):
                return int(task["worker_pid"])
    return None


def _scheduled(app: Celery) -> int:
    """Countdown tasks the running workers hold, reserved and not yet acknowledged."""
    replies = app.control.inspect(timeout=1.0).scheduled() or {}
    return sum(len(tasks) for tasks in replies.values())
