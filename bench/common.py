"""Shared set-up for the benchmarks: a database and a Redis db of their own, emptied."""

from __future__ import annotations

import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models.db import upgrade


def fresh_state(database_url: str, redis_url: str) -> None:
    """Drop and recreate the bench database (migrated) and flush the bench Redis db."""
    name = make_url(database_url).database
    admin = sa.create_engine(make_url(database_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    upgrade(database_url)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
