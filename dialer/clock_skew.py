"""Clock skew between beat and a worker, measured from a tick the worker had to discard.

Beat stamps each tick with ``expires = sent_at + expires_after_s`` by its own
clock; a worker discards a tick whose ``expires`` has passed by *its* clock.
So a worker whose clock runs ahead of beat's by more than ``expires_after_s``
discards every tick and nothing dials, without an error anywhere. The time
from sending to receipt, measured with the worker's clock, is the real
transit (queue wait, usually milliseconds) plus that skew: an upper bound
on the skew, and close to it when the queue is not backed up.
"""

from __future__ import annotations

from datetime import datetime


def tick_transit_s(*, expires: datetime, expires_after_s: float, received_at: datetime) -> float:
    """Seconds from beat sending the tick to this worker receiving it, by this worker's clock."""
    return (received_at - expires).total_seconds() + expires_after_s


class EveryInterval:
    """Says yes at most once per ``interval_s`` (monotonic seconds passed in): one
    warning a minute, not one per discarded tick."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last_s: float | None = None

    def due(self, now_s: float) -> bool:
        if self._last_s is not None and now_s - self._last_s < self.interval_s:
            return False
        self._last_s = now_s
        return True
