"""Pacing arithmetic (pure): how many calls a tick may queue, and when each goes.

The Redis limiter enforces the hard caps at placement time across all
workers; this module plans so that dial tasks rarely meet a closed limiter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.spec import CallHandling, Pacing


@dataclass(frozen=True)
class Usage:
    """What is already committed, read from PostgreSQL by the tick."""

    in_flight: int  # calls queued, dialing or placed for this campaign
    org_in_flight: int  # the same across every campaign
    placed_today: int  # placed or queued since local midnight


def min_gap_s(pacing: Pacing) -> float:
    """The gap between two placements that honours both spacing and calls/minute."""
    per_minute_gap = 60.0 / pacing.calls_per_minute if pacing.calls_per_minute else 0.0
    # Rounded up to whole microseconds (what a timedelta holds), so that N gaps
    # never add up to a hair under a minute and let N + 1 calls into it.
    return math.ceil(max(float(pacing.spacing_seconds), per_minute_gap) * 1e6) / 1e6


def dispatch_budget(*, pacing: Pacing, usage: Usage, org_cap: int) -> int:
    """How many new calls may be queued now, before the spreading in time.

    Calls per minute is not counted here: ``plan_slots`` spaces calls at least
    ``60 / calls_per_minute`` apart, so no 60 seconds of slots can hold more
    than the cap, and the Redis limiter refuses the odd one that jitter
    pushes over. Counting the last minute's placements here as well would
    starve the next minute's slots.
    """
    budget = min(pacing.channels - usage.in_flight, org_cap - usage.org_in_flight)
    if pacing.daily_limit is not None:
        budget = min(budget, pacing.daily_limit - usage.placed_today)
    return max(0, budget)


def plan_slots(
    *,
    pacing: Pacing,
    budget: int,
    now: datetime,
    next_free_slot: datetime | None,
    horizon_s: float,
) -> list[datetime]:
    """Dispatch instants for up to ``budget`` calls within ``horizon_s`` of now.

    Calls are spread by the minimum gap instead of released as a burst; a
    slot never lies before ``next_free_slot`` (the gap carried over from the
    previous tick), and nothing is planned past the horizon, so dial tasks
    never queue up far ahead of the limiter.
    """
    gap_s = min_gap_s(pacing)
    first = max(now, next_free_slot) if next_free_slot else now
    slots: list[datetime] = []
    horizon = now + timedelta(seconds=horizon_s)
    for index in range(budget):
        slot = first + timedelta(seconds=gap_s * index)
        if slots and slot >= horizon:
            break
        if not slots and gap_s > 0 and slot >= horizon:
            break
        slots.append(slot)
    return slots


def next_free_slot_after(slots: list[datetime], pacing: Pacing) -> datetime | None:
    if not slots:
        return None
    return slots[-1] + timedelta(seconds=min_gap_s(pacing))


def call_deadline(handling: CallHandling, *, grace_s: float) -> timedelta:
    """How long a call may hold its channel from when it is dialed: ring timeout +
    longest talk + grace; the sweep closes it as failed then. The one definition:
    the tick's queued calls (from their slot) and the dial (from its claim) use it."""
    return timedelta(seconds=handling.ring_timeout_s + handling.max_duration_s + grace_s)


def rebase_next_free_slot(next_free_slot: datetime | None, *, before: Pacing,
                          after: Pacing) -> datetime | None:
    """The next free slot under edited pacing: the last planned slot (the stored one
    minus the old gap) plus the new gap, so that a shorter gap is not held to the old."""
    if next_free_slot is None:
        return None
    return next_free_slot + timedelta(seconds=min_gap_s(after) - min_gap_s(before))
