"""A backlog of dials does not hold up a result behind it (issue 11: results and
dials on different queues).

The plain ``celery -A workers.app worker`` consumes every queue; kombu takes
from them in turn, so a result sent after thousands of waiting dials is
carried out long before the dials have drained. Were results and dials one
queue (or one FIFO), the result would wait for every dial, past the sweep's
deadline for its call.
"""

from __future__ import annotations

import uuid

import pytest

from dialer.settings import load_settings
from tests.support.broker import message_counts
from tests.support.scenario import MONDAY_9AM_NY
from tests.support.stack import wait_for
from workers.app import DIAL_QUEUE, RESULTS_QUEUE, create_app
from workers.dispatch import CeleryDispatcher

pytestmark = pytest.mark.integration

BACKLOG = 3000


def test_a_result_is_not_queued_behind_a_dial_backlog(make_stack):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=1)
    broker = stack.env["DIALER_BROKER_URL"]
    # One worker declares the queues and goes: the backlog then builds up with nobody consuming.
    stack.stop_worker(stack.start_worker(concurrency=1))
    sender = create_app(load_settings(broker_url=broker, redis_url=stack.env["DIALER_REDIS_URL"]))
    dispatcher = CeleryDispatcher(sender)
    for _ in range(BACKLOG):
        # Ids no call has: each dial finds nothing to claim, a few milliseconds' work.
        dispatcher.send_dial(str(uuid.uuid4()))
    result_for = str(uuid.uuid4())
    dispatcher.send_result(result_for, outcome="answered", duration_s=1.0, goal_achieved=None,
                           detail=None, countdown_s=0.0)
    assert message_counts(broker, (DIAL_QUEUE, RESULTS_QUEUE)) == {
        DIAL_QUEUE: BACKLOG, RESULTS_QUEUE: 1}

    worker = stack.start_worker(concurrency=1)
    wait_for(lambda: f"result for unknown or finished call {result_for}"
             in worker.log_path.read_text(), timeout_s=60, what="the result carried out")

    left = message_counts(broker, (DIAL_QUEUE,))[DIAL_QUEUE]
    assert left > BACKLOG // 2, f"the result waited for {BACKLOG - left} of {BACKLOG} dials"
    sender.close()
