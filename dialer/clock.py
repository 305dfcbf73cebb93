"""The one clock every process reads.

``now = sim_origin + (time.time() - real_anchor) * time_scale`` so that every
worker, beat and client agrees on the simulated instant without talking to
each other. Rules never call this; they receive the instant as an argument.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    time_scale: float

    def now(self) -> datetime: ...

    def real_seconds(self, sim_seconds: float) -> float:
        """How many real seconds a simulated delay takes."""
        ...


class ScaledClock:
    """Simulated time anchored to the wall clock."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        sim_origin: datetime | None = None,
        real_anchor_s: float | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = float(time_scale)
        self._wall = wall
        if sim_origin is None:
            # Real time: the simulated instant is the wall clock itself.
            self._sim_origin = datetime.fromtimestamp(0, tz=UTC)
            self._real_anchor_s = 0.0
        else:
            if sim_origin.tzinfo is None:
                raise ValueError("sim_origin must carry a UTC offset")
            self._sim_origin = sim_origin
            self._real_anchor_s = float(real_anchor_s if real_anchor_s is not None else wall())

    def now(self) -> datetime:
        elapsed_real_s = self._wall() - self._real_anchor_s
        return (self._sim_origin + timedelta(seconds=elapsed_real_s * self.time_scale)).astimezone(
            UTC
        )

    def real_seconds(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds / self.time_scale)


def parse_time_origin(value: str) -> tuple[datetime, float]:
    """Parse ``SIM_ISO_DATETIME@REAL_UNIX_SECONDS``."""
    sim_text, sep, real_text = value.rpartition("@")
    if not sep:
        raise ValueError("expected SIM_ISO_DATETIME@REAL_UNIX_SECONDS")
    sim = datetime.fromisoformat(sim_text.strip().replace("Z", "+00:00"))
    if sim.tzinfo is None:
        raise ValueError("the simulated instant needs a UTC offset")
    return sim, float(real_text)
