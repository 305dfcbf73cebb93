"""What "transient" means, defined once: PostgreSQL, Redis or the broker briefly away.

A transient error is nobody's mistake and no campaign's fault: the same call
works again once the service is back (a restart, a failover, a dropped
socket, a pool or statement timeout). The tasks retry on it
(``workers/tasks.py``), the ``dialer`` command answers it with exit 3 "cannot
reach a service" (``dialer/cli_common.py``), ``dialer watch`` keeps its last
frame and reconnects (``dialer/cli_watch.py``), and a tick or sweep lets it end
the pass instead of charging it to a campaign (``service/isolation.py``).

The drivers' own errors are listed here because the service layer meets them
directly (SQLAlchemy through the store, redis-py through the coordination
adapters). An adapter whose driver is not allowed this far up wraps its errors
in ``dialer.errors.InfrastructureError`` at its boundary: the Celery dispatcher
does so for kombu's, since the service layer imports nothing of Celery.
"""

from __future__ import annotations

from typing import Final

import psycopg
import redis.exceptions
import sqlalchemy.exc

from dialer.errors import InfrastructureError

TRANSIENT_ERRORS: Final[tuple[type[Exception], ...]] = (
    # PostgreSQL: connection lost or refused, server shutting down, statement or lock
    # timeout (SQLAlchemy's wrappers, and psycopg's own where it is used directly).
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,
    # The connection pool had no connection to give within its timeout.
    sqlalchemy.exc.TimeoutError,
    # Redis: connection refused or lost, socket timeout.
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    # A socket error no driver wrapped.
    ConnectionError,
    # What our adapters raise for the drivers they wrap (the broker's, through kombu).
    InfrastructureError,
)


# SQLSTATEs of a transaction PostgreSQL aborted to break a conflict with another one
# (deadlock_detected, serialization_failure): run again from the start, it goes through.
_CONFLICTS = frozenset({"40P01", "40001"})


def is_lost_conflict(error: BaseException) -> bool:
    """A transaction aborted by PostgreSQL to let a concurrent one finish."""
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) in _CONFLICTS


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a service briefly away, so that trying again later may work."""
    return isinstance(error, TRANSIENT_ERRORS)
