"""Small helpers for the SQL text of the store modules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def sql_in(group: Iterable[str]) -> str:
    """``('a', 'b')``, for ``status IN {...}`` spelled inside SQL text, from an enum group.

    Only where a partial index's predicate must match the query literally
    (a bound list cannot prove ``status IN ('pending', 'retry_scheduled')``
    to the planner of a generic plan); everywhere else statuses are bound as
    parameters. The words are quoted, not escaped: our own enums only.
    """
    return "(" + ", ".join(f"'{word}'" for word in sorted(group)) + ")"


def run_core(session: Session, statement: Executable, params: dict[str, Any]) -> Any:
    """Execute on the session's connection, inside its transaction: Core, without
    the ORM's execution context, for the statements of the hot paths."""
    return session.connection().execute(statement, params)


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched. ``Session.execute`` is typed as returning a
    plain ``Result``, but for DML it is a ``CursorResult``, which has ``rowcount``."""
    return cast("CursorResult[Any]", result).rowcount or 0


# The digest that keys the per-process spec cache (service/spec_cache.py), read in
# the statements of the hot paths alongside what they do anyway; ``c`` is campaigns.
SPEC_DIGEST = "md5(c.spec::text)"


def contains(term: str) -> str:
    """The ILIKE pattern for "contains ``term``", its own ``%``, ``_`` and ``\\`` taken
    literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
