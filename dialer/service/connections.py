"""One pooled connection per hot-path task, ORM sessions that join its transaction,
and status vocabularies written into SQL text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, CursorResult
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


def sql_list(words: Iterable[str]) -> str:
    """``('a', 'b')`` for ``status IN {...}`` in SQL text, from a status vocabulary.

    Only for our own constants (``dialer.statuses``, ``dialer.lifecycle``): the
    words are quoted, not escaped, so never pass anything a client sent.
    """
    return "(" + ", ".join(f"'{word}'" for word in sorted(words)) + ")"


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched. ``Session.execute`` is typed as returning a
    plain ``Result``, but for DML it is a ``CursorResult``, which has ``rowcount``."""
    return cast("CursorResult[Any]", result).rowcount or 0
