"""Everything the use cases need, built once per process and passed in."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dialer.clock import Clock
from dialer.coordination import BreakerWindow, ChannelLeases, PacingLimiter
from dialer.coordination.redis_breaker import BreakerCounter
from dialer.coordination.redis_leases import LeaseSemaphore
from dialer.coordination.redis_pacing import PlacementLimiter
from dialer.provider import NO_EXTRAS, Provider, ResultExtras
from dialer.service.targets import FrequencyCaps
from dialer.settings import Settings
from models.db import (
    DbTimeouts,
    make_engine,
    unit_of_work,
    unit_of_work_committed,
)


class Dispatcher(Protocol):
    """How the service hands work to Celery (sent only after the commit)."""

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None: ...

    def send_result(self, call_id: str, *, outcome: str, duration_s: float,
                    goal_achieved: bool | None, detail: str | None, countdown_s: float,
                    extras: ResultExtras = NO_EXTRAS) -> None: ...


@dataclass
class Runtime:
    """``leases``, ``limiter`` and ``breaker`` are what the use cases coordinate through
    (``dialer.coordination``): Redis-backed from ``build_runtime``, in memory in tests of
    the use cases. ``redis`` is the raw client for what is Redis by nature (the tick
    histogram, the simulated provider's outbox)."""

    settings: Settings
    clock: Clock
    engine: Engine
    redis: redis.Redis
    dispatcher: Dispatcher
    provider_factory: Callable[[Runtime], Provider]
    leases: ChannelLeases
    limiter: PacingLimiter
    breaker: BreakerWindow
    pid: int = field(default_factory=os.getpid)

    def unit_of_work(self) -> AbstractContextManager[Session]:
        """The one way a use case reaches PostgreSQL (ARCHITECTURE.md, "Unit of work"):
        one connection and Session for the whole use case, explicit commits,
        anything uncommitted rolled back at the end."""
        return unit_of_work(self.engine)

    def transaction(self) -> AbstractContextManager[Session]:
        """A use case (or a step of one) that is exactly one transaction."""
        return unit_of_work_committed(self.engine)

    @cached_property
    def provider(self) -> Provider:
        return self.provider_factory(self)

    @property
    def caps(self) -> FrequencyCaps:
        return FrequencyCaps(per_24h=self.settings.max_calls_per_number_24h,
                             per_7d=self.settings.max_calls_per_number_7d)

    def org_cap(self, stored: int | None) -> int:
        """An organisation's channel cap: its own, or DIALER_ORG_CHANNEL_CAP when it has
        none (``default`` after migration 0005, and organisations created without one)."""
        return self.settings.org_channel_cap if stored is None else stored

    @property
    def grace_s(self) -> float:
        """Slack past ring + talk time before a silent call is closed as failed.

        Part of it is real time (a busy queue delays results in real seconds),
        so it grows with the time scale.
        """
        return 30.0 + 10.0 * self.clock.time_scale

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()


def redis_timeouts(settings: Settings) -> dict[str, float]:
    """Socket options for every Redis client we build (coordination and broker).

    Without a socket timeout a Redis that accepts the connection and never
    answers (a paused or wedged server, a half-open TCP connection) blocks the
    calling task forever; with it, the call raises ``redis.TimeoutError``,
    which the tasks treat as transient and retry.
    """
    return {"socket_timeout": settings.redis_socket_timeout_s,
            "socket_connect_timeout": settings.redis_connect_timeout_s,
            "health_check_interval": settings.redis_health_check_interval_s}


def make_redis(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url, **redis_timeouts(settings))


def build_runtime(
    settings: Settings,
    *,
    dispatcher: Dispatcher,
    provider_factory: Callable[[Runtime], Provider],
    pool_size: int = 5,
) -> Runtime:
    engine = make_engine(settings.database_url, pool_size=pool_size, timeouts=DbTimeouts(
        connect_s=settings.db_connect_timeout_s, statement_s=settings.db_statement_timeout_s,
        lock_s=settings.db_lock_timeout_s,
        idle_in_transaction_s=settings.db_idle_in_transaction_timeout_s))
    client = make_redis(settings)
    return Runtime(
        settings=settings,
        clock=settings.clock(),
        engine=engine,
        redis=client,
        dispatcher=dispatcher,
        provider_factory=provider_factory,
        leases=LeaseSemaphore(client),
        limiter=PlacementLimiter(client),
        breaker=BreakerCounter(client),
    )
