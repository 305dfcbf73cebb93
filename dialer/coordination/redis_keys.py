"""Every Redis key the dialer uses, in one place.

All keys live under ``dialer:`` so an operator can see (and a test can wipe)
everything the dialer owns without touching the Celery broker's own keys.
Redis only ever holds short-lived coordination state; PostgreSQL is the truth
and everything here can be rebuilt from it (see ``LeaseSemaphore.rebuild`` and
``PlacementLimiter.rebuild``).

The Lua scripts take these names as KEYS, never build them themselves, so the
naming scheme can change here alone.
"""

from __future__ import annotations

PREFIX = "dialer:"


def _key(*parts: object) -> str:
    return PREFIX + ":".join(str(part) for part in parts)


# --- channel leases -------------------------------------------------------------------------

def campaign_leases(campaign_id: object) -> str:
    """ZSET {call_id: expires_at_s}: the channels one campaign holds."""
    return _key("leases", "campaign", campaign_id)


def org_leases() -> str:
    """ZSET {call_id: expires_at_s}: the channels held across all campaigns."""
    return _key("leases", "org")


def campaign_leases_pattern() -> str:
    """SCAN pattern of every campaign's lease set (a rebuild empties them all)."""
    return _key("leases", "campaign", "*")


def leases_ready() -> str:
    """Marker HASH: the lease sets are complete (fresh system, or rebuilt from PostgreSQL).

    Holds the generation id, the Redis server's run_id and each set's version
    (``lua/lease_generation.lua``): a FLUSHDB removes it, and an
    evicted, restored or failed-over set no longer matches it.
    """
    return _key("leases", "ready")


def leases_rebuilding() -> str:
    """The marker while a rebuild writes it; renamed onto ``leases_ready`` at the end."""
    return _key("leases", "rebuilding")


# --- placement pacing -----------------------------------------------------------------------

def placements(campaign_id: object) -> str:
    """ZSET {call_id: placed_at_s}: the sliding-window log of recent placements."""
    return _key("pacing", campaign_id, "placements")


def last_placement(campaign_id: object) -> str:
    """String: the latest placement instant (simulated epoch seconds), for spacing."""
    return _key("pacing", campaign_id, "last")


def daily_count(campaign_id: object, day: str) -> str:
    """Integer counter of placements on one campaign-local day ('YYYY-MM-DD')."""
    return _key("pacing", campaign_id, "day", day)


# --- circuit breaker ------------------------------------------------------------------------

def breaker_window(campaign_id: object) -> str:
    """LIST of recent outcomes, newest first: '1:<call_id>' failed, '0:<call_id>' ok."""
    return _key("breaker", campaign_id, "window")


# --- simulated provider ----------------------------------------------------------------------

def sim_outbox() -> str:
    """ZSET {result payload: due_s}: results the simulated provider still owes.

    The simulated "carrier" lives outside any one worker: if the worker that
    held a result's countdown dies, the sweep's poll delivers it from here.
    """
    return _key("sim", "outbox")


# --- monitoring ------------------------------------------------------------------------------

def tick_duration_histogram() -> str:
    """HASH of the tick duration histogram: per-bucket counts ('le:<bound>'), 'sum', 'count'.

    The one key here PostgreSQL cannot rebuild: after a wipe the histogram
    starts again from zero, which Prometheus reads as a counter reset.
    """
    return _key("metrics", "tick_duration")
