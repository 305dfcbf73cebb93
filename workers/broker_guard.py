"""kombu's Redis transport, hardened against items that are not kombu messages.

Anyone who can write to the broker's Redis can push anything onto a queue
list (``redis-cli LPUSH dialer.results 'not json'``). kombu pops the item and
decodes it inside its transport, before Celery sees a message; an item that is
not JSON, not a JSON object, or an object without kombu's envelope
(``properties.delivery_tag``, ``delivery_info``, a base64 ``body``) raises
there, and the worker exits ("Unrecoverable error") or restarts its consumer
(kombu counts ``KeyError`` as a lost connection). The item is gone by then (it
never reached the unacked set), so no retry could help.

``Channel`` below lets kombu do all of the work and only catches what fails
between the pop and the hand-over to Celery: it logs one WARNING naming the
queue and the error (never the item: it may hold phone numbers) and goes on
consuming. Errors from Redis itself, and anything raised once Celery has the
message, pass through unchanged.

Not recorded in ``rejected_requests``: that would be a synchronous
PostgreSQL write in the worker's main process, inside the event loop that
feeds every queue, once per item pushed by whoever floods the broker, and it
would block consumption for the database timeout during an outage; such an
item has no task name or id to record it under either. The WARNING is the
record (docs/remote-control.md, "Malformed messages").

Installed for ``redis://``, ``rediss://`` and ``redis+socket://`` URLs by
``install()`` (called by ``workers.app``): the scheme aliases are kept, not
replaced by a class path in ``broker_transport``, because kombu gives a
``rediss://`` URL its TLS defaults by the scheme's name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, redis
from redis.exceptions import RedisError

from workers.logging_setup import mask_phones

log = logging.getLogger(__name__)

# Where ``install`` points kombu's Redis scheme names.
TRANSPORT_PATH = "workers.broker_guard:Transport"
SCHEMES = ("redis", "rediss")
_MAX_ERROR_CHARS = 200


def describe(exc: BaseException) -> str:
    """The error for the log: its type and kombu's message, bounded and masked.

    The messages of the errors seen here name kombu's keys and Python types,
    not the item; masking and the bound are there in case one ever quotes it.
    """
    text = mask_phones(str(exc))
    if len(text) > _MAX_ERROR_CHARS:
        text = text[:_MAX_ERROR_CHARS] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _PoppedFrom:
    """kombu's queue cycle, noting the queue each popped item came from.

    ``Channel._brpop_read`` rotates its cycle to the queue of the item it has
    just popped, before decoding the item: the one moment the queue's name is
    known when the decoding then fails.
    """

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self.queue: str | None = None

    def rotate(self, last_used: str) -> Any:
        self.queue = last_used
        return self._cycle.rotate(last_used)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cycle, name)


class Channel(redis.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue_cycle = _PoppedFrom(self._queue_cycle)
        self._handed_over = False

    def basic_consume(self, queue: str, no_ack: bool, callback: Callable[[Any], Any],
                      consumer_tag: str, **kwargs: Any) -> Any:
        # Marks the moment a message reaches Celery: what fails after it is
        # Celery's to handle, never swallowed here.
        def handed_over(message: Any) -> Any:
            self._handed_over = True
            return callback(message)

        return super().basic_consume(queue, no_ack, handed_over, consumer_tag, **kwargs)

    def _brpop_read(self, **options: Any) -> Any:
        self._queue_cycle.queue = None
        self._handed_over = False
        try:
            return super()._brpop_read(**options)
        except (RedisError, OSError):
            raise  # the broker itself: kombu reconnects
        except Exception as exc:
            queue = self._queue_cycle.queue
            if queue is None or self._handed_over:
                raise  # nothing popped, or Celery already had the message
            log.warning("dropped an item of broker queue %s: not a kombu message (%s); "
                        "something writes to the broker's Redis directly", queue,
                        describe(exc))
            return True  # consumed, as kombu's own read would say; BRPOP is issued again


class Transport(redis.Transport):
    Channel = Channel


def install() -> None:
    """Route kombu's ``redis``/``rediss`` scheme names to this transport (process-wide)."""
    for scheme in SCHEMES:
        TRANSPORT_ALIASES[scheme] = TRANSPORT_PATH
