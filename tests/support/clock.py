"""A clock for tests: time moves only when told to (``dialer.clock.Clock``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock for tests of pure code: time moves only when told to."""

    def __init__(self, start: datetime, time_scale: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("start must carry a UTC offset")
        self._now = start.astimezone(UTC)
        self.time_scale = time_scale

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def real_seconds(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds / self.time_scale)
