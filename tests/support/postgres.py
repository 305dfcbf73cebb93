"""PostgreSQL as the tests watch it: who is waiting on a lock."""

from __future__ import annotations

import sqlalchemy as sa


def sessions_waiting_on_locks(engine: sa.Engine) -> int:
    """Sessions of the engine's database blocked on a lock right now."""
    with engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one())
