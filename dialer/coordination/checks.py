"""The arguments every coordination implementation refuses alike (Redis and in memory)."""

from __future__ import annotations

import math


def finite_seconds(value: float, name: str) -> float:
    """``value`` as a float; ValueError naming ``name`` if it is not finite."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def lease_span(now_s: float, expires_at_s: float) -> None:
    if float(expires_at_s) <= float(now_s):
        # Such a lease would be pruned at once: the call would run holding nothing.
        raise ValueError(f"expires_at_s ({expires_at_s}) must be after now_s ({now_s})")


def window_size(window: int) -> int:
    size = int(window)
    if size < 1:
        # LTRIM 0 -1 would keep the whole list: a window of 0 is a caller bug.
        raise ValueError(f"window must be >= 1, got {window!r}")
    return size
