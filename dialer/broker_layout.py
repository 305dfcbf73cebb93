"""Whether the Celery broker and the coordination Redis share one database.

They may (docs/contract.md §1: ``DIALER_BROKER_URL`` defaults to ``DIALER_REDIS_URL``),
but then a flush of the coordination data, or of the broker, takes the other
with it: results waiting in the broker's lists vanish with the leases. The
worker warns at start-up; docs/deployment.md gives the recommended layout.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_REDIS_SCHEMES = {"redis", "rediss"}
_DEFAULT_PORT = 6379


def redis_db_of(url: str) -> tuple[str, int, int] | None:
    """``(host, port, db)`` of a Redis URL, or None for another kind of broker.

    The db comes from the path (``/2``) or a ``?db=2`` query, as redis-py
    reads it; absent, it is 0. Unix sockets are keyed by their path.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "unix":
        return (parts.path, 0, _query_db(parts.query) or 0)
    if scheme not in _REDIS_SCHEMES:
        return None
    path = parts.path.strip("/")
    db = int(path) if path.isdigit() else (_query_db(parts.query) or 0)
    try:
        port = parts.port or _DEFAULT_PORT
    except ValueError:  # a port that is not a number: not ours to judge
        return None
    return ((parts.hostname or "localhost").lower(), port, db)


def is_redis_url(url: str) -> bool:
    """Whether the URL names a Redis server (``redis``, ``rediss`` or ``unix``)."""
    return redis_db_of(url) is not None


def shares_redis_db(broker_url: str, redis_url: str) -> bool:
    """True when both URLs name the same database of the same Redis server."""
    broker = redis_db_of(broker_url)
    return broker is not None and broker == redis_db_of(redis_url)


def _query_db(query: str) -> int | None:
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "db" and value.isdigit():
            return int(value)
    return None
