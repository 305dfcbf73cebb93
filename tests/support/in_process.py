"""The service functions the tasks call, run in the test's own process.

For interleavings a real worker leaves open only for milliseconds: the test
holds one use case at a chosen point and runs another against the same
PostgreSQL and Redis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from dialer.providers.simulated import SimulatedProvider
from dialer.service.runtime import Runtime, build_runtime
from dialer.settings import load_settings


class Collector:
    """A dispatcher that keeps the dials it is asked to send and drops results."""

    def __init__(self) -> None:
        self.dials: list[str] = []

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        self.dials.append(call_id)

    def send_result(self, call_id: str, **kwargs: Any) -> None:
        pass


def in_process_runtime(database_url: str, redis_url: str, origin: str,
                       **overrides: Any) -> Runtime:
    settings = load_settings(database_url=database_url, redis_url=redis_url,
                             time_origin=origin, tick_seconds=1.0, **overrides)
    return build_runtime(settings, dispatcher=Collector(),
                         provider_factory=SimulatedProvider.from_runtime, pool_size=2)


# Monday 2 March 2026, 10:00 in New York: inside the test campaigns' window.
OPEN_WINDOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def waiting_on_locks(database_url: str, *locktypes: str) -> bool:
    """Whether some session waits for a lock of these types (``pg_locks.locktype``)."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        waiting = conn.scalar(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = ANY(:types) AND NOT granted"),
            {"types": list(locktypes)})
    engine.dispose()
    return bool(waiting)
