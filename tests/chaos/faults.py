"""Faults that need more than a signal: PostgreSQL refusing and dropping connections."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

_TERMINATE = sa.text("""
    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE datname = :name AND pid <> pg_backend_pid()
""")


@contextmanager
def postgres_outage(database_url: str) -> Iterator[OutageControl]:
    """The test database refuses new connections and its open ones are dropped.

    A "restart" of one database, not of the server that others share: from
    an admin connection to ``postgres``, ``ALLOW_CONNECTIONS false`` and
    ``pg_terminate_backend`` of every backend on it. Connections are allowed
    again on the way out, whatever happened.
    """
    url = make_url(database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    quoted = '"' + str(name).replace('"', '""') + '"'
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {quoted} WITH ALLOW_CONNECTIONS false"))
            yield OutageControl(conn, str(name))
    finally:
        # A fresh connection: the one above may be the thing that failed.
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {quoted} WITH ALLOW_CONNECTIONS true"))
        admin.dispose()


class OutageControl:
    def __init__(self, conn: sa.Connection, name: str) -> None:
        self._conn = conn
        self._name = name
        self.terminated = 0

    def terminate(self) -> int:
        """Drop every connection to the database (pools reconnect; superusers may)."""
        dropped = int(self._conn.execute(_TERMINATE, {"name": self._name}).scalar_one())
        self.terminated += dropped
        return dropped

    def hold(self, seconds: float, *, every_s: float = 0.25) -> None:
        """Keep dropping connections for ``seconds``: the outage lasts that long."""
        until = time.monotonic() + seconds
        while True:
            self.terminate()
            if time.monotonic() >= until:
                return
            time.sleep(every_s)
