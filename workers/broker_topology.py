"""The broker topology senders rely on: one direct exchange per queue.

Each queue is bound to an exchange of its own name with a routing key of its
own name, and nothing else, so a message published by exchange and routing
key reaches exactly one queue (docs/remote-control.md, "Topology").

Releases before this one declared every queue without an exchange, so Celery
bound all four to its default exchange ``dialer.control`` with the key
``dialer.control``: a sender routing by that exchange had its message copied
into every queue. Bindings outlive the workers that declared them (RabbitMQ
keeps them with the durable queues, Redis in ``_kombu.binding.*`` sets), so a
worker of this release removes those old ones when it starts.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu import Connection, Exchange, Queue

log = logging.getLogger(__name__)

# The binding every queue but dialer.control got from the old declaration.
LEGACY_EXCHANGE = "dialer.control"
LEGACY_ROUTING_KEY = "dialer.control"


def own_queue(name: str) -> Queue:
    """A durable queue bound to a direct exchange of its name, by its name."""
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def remove_legacy_bindings(connection: Connection, queues: list[str]) -> None:
    """Unbind ``queues`` from ``dialer.control``/``dialer.control`` (idempotent).

    ``queues`` must not include ``dialer.control`` itself: that binding is
    the current one.
    """
    stale = [name for name in queues if name != LEGACY_EXCHANGE]
    if connection.transport.driver_type == "redis":
        _remove_redis(connection, stale)
    else:
        _remove_amqp(connection, stale)


def _remove_amqp(connection: Connection, queues: list[str]) -> None:
    # Unbinding a binding that does not exist is a no-op in RabbitMQ; the
    # exchange exists, the worker declared it with dialer.control.
    for name in queues:
        with connection.channel() as channel:
            channel.queue_unbind(queue=name, exchange=LEGACY_EXCHANGE,
                                 routing_key=LEGACY_ROUTING_KEY)


def _remove_redis(connection: Connection, queues: list[str]) -> None:
    # kombu's virtual ``queue_unbind`` filters a local copy of the table and
    # leaves Redis untouched, so the members are removed here, in kombu's own
    # layout: set ``_kombu.binding.<exchange>`` of "key<sep>pattern<sep>queue"
    # (and its ``binding_permanent`` twin). The channel's client applies any
    # ``global_keyprefix``.
    # The Redis transport's channel: kombu's base type declares none of these attributes.
    channel: Any = connection.default_channel
    members = [channel.sep.join([LEGACY_ROUTING_KEY, "", name]) for name in queues]
    with channel.conn_or_acquire() as client:
        client.srem(channel.keyprefix_queue % LEGACY_EXCHANGE, *members)
        # kombu 5.6+ also keeps the bindings it must not expire in a twin set.
        permanent = getattr(channel, "keyprefix_binding_permanent", None)
        if permanent:
            client.srem(permanent % LEGACY_EXCHANGE, *members)
