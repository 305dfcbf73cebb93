"""One message published by exchange and routing key reaches one queue, once.

A sender that routes the AMQP way (exchange + routing key, as the worker's
banner advertises) must not see its message multiplied: each of the dialer's
queues has its own direct exchange and key. Checked on both brokers, with the
topology a real worker declares, on a fresh broker and on one that still
holds the bindings of the release before the fix (every queue bound to
``dialer.control``/``dialer.control``), which a worker of this release removes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import Celery

from tests.support.broker import (
    DIALER_QUEUES,
    amqp_test_url,
    bind_like_the_old_release,
    message_counts,
    reset_amqp,
)
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request, clean_state, redis_url: str) -> Iterator[str]:
    """The broker under test, empty (``clean_state`` flushed the Redis db)."""
    if request.param == "redis":
        yield redis_url
        return
    url = amqp_test_url()
    reset_amqp(url)
    yield url
    reset_amqp(url)


def enqueue_by_exchange(sender: Celery, queue: str) -> None:
    """``enqueue_campaign`` without ``external_id``: every delivery creates a campaign."""
    spec = campaign_spec(None, name=f"via {queue}")
    spec.pop("audience_id")
    sender.send_task("dialer.enqueue_campaign",
                     kwargs={"spec": spec, "contacts": ny_contacts([["answered"]])},
                     exchange=queue, routing_key=queue)


@pytest.mark.parametrize("history", ["fresh", "old bindings"])
def test_a_message_sent_by_exchange_and_key_is_delivered_exactly_once(make_stack, broker,
                                                                       history):
    if history == "old bindings":
        bind_like_the_old_release(broker)
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60,
                       extra_env={"DIALER_BROKER_URL": broker})
    # A real worker declares the topology (and removes the old bindings);
    # stopped, so that the broker's own counts show where each message went.
    stack.stop_worker(stack.start_worker(concurrency=1))
    assert message_counts(broker) == dict.fromkeys(DIALER_QUEUES, 0)

    sender = Celery(broker=broker, set_as_current=False)
    expected = dict.fromkeys(DIALER_QUEUES, 0)
    for queue in DIALER_QUEUES:
        enqueue_by_exchange(sender, queue)
        expected[queue] += 1
        assert message_counts(broker) == expected, f"one message sent by exchange {queue}"
    sender.close()

    # And the worker serves each of them: one campaign per message.
    stack.start_worker(concurrency=1)
    client = stack.client()
    wait_for(lambda: message_counts(broker) == dict.fromkeys(DIALER_QUEUES, 0)
             and len(client.list()) >= len(DIALER_QUEUES),
             timeout_s=30, what="the four messages consumed")
    assert sorted(c.name for c in client.list()) == sorted(f"via {q}" for q in DIALER_QUEUES)
