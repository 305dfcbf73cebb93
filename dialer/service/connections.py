"""One pooled connection per hot-path task, and ORM sessions that join its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.orm import Session


@contextmanager
def joined_session(conn: Connection) -> Iterator[Session]:
    """An ORM session inside the connection's open transaction, for the helpers that
    take one: it flushes at the end and leaves the commit to the connection."""
    session = Session(bind=conn)
    try:
        yield session
        session.flush()
    finally:
        session.close()
