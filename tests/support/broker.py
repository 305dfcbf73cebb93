"""The test brokers: the stack's Redis db, and a RabbitMQ vhost.

RabbitMQ is reached at ``DIALER_TEST_AMQP_URL`` (default: the local server's
vhost ``dialer_test``, as guest; ``scripts/ensure_services.sh`` creates it).
Tests delete the dialer's queues and exchanges in that vhost. Tests that must
run on both brokers take it from here; the whole stack moves to it with
``DIALER_TEST_BROKER_URL`` (see ``tests.support.stack.broker_url``).
"""

from __future__ import annotations

import os

from kombu import Connection
from kombu.exceptions import ChannelError

AMQP_URL_ENV = "DIALER_TEST_AMQP_URL"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/dialer_test"
DIALER_QUEUES = ("dialer.control", "dialer.dial", "dialer.results", "celery")


def amqp_test_url() -> str:
    return os.environ.get(AMQP_URL_ENV) or DEFAULT_AMQP_URL


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0] in {"amqp", "amqps", "pyamqp"}


def reset_amqp(url: str) -> None:
    """Delete the dialer's queues and exchanges in the vhost: each test starts
    from an empty broker, as it starts from an empty Redis db (FLUSHDB)."""
    with Connection(url, connect_timeout=5) as conn:
        for name in DIALER_QUEUES:
            # A fresh channel each: deleting what does not exist must not
            # close the channel for the next one.
            with conn.channel() as channel:
                channel.queue_delete(name)
            with conn.channel() as channel:
                channel.exchange_delete(name)


def message_counts(url: str, queues: tuple[str, ...] = DIALER_QUEUES) -> dict[str, int]:
    """Messages ready in each queue, read from the broker itself."""
    counts: dict[str, int] = {}
    with Connection(url, connect_timeout=5) as conn:
        for name in queues:
            with conn.channel() as channel:
                try:
                    counts[name] = channel.queue_declare(name, passive=True).message_count
                except ChannelError:
                    # Redis has no empty queue (a list with no items is no key);
                    # RabbitMQ: never declared. Either way nothing waits there.
                    counts[name] = 0
    return counts


def bind_like_the_old_release(url: str) -> None:
    """The bindings every worker before the routing fix declared: each queue
    bound to exchange ``dialer.control`` with key ``dialer.control``."""
    from kombu import Exchange, Queue

    exchange = Exchange("dialer.control", type="direct")
    with Connection(url, connect_timeout=5) as conn, conn.channel() as channel:
        for name in DIALER_QUEUES:
            Queue(name, exchange, routing_key="dialer.control").bind(channel).declare()
