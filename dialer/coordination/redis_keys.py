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


def org_leases(org_id: object) -> str:
    """ZSET {call_id: expires_at_s}: the channels one organisation holds, across its
    campaigns (each organisation has its own cap, so its own set)."""
    return _key("leases", "org", org_id)


def campaign_leases_pattern() -> str:
    """SCAN pattern of every campaign's lease set (a rebuild empties them all)."""
    return _key("leases", "campaign", "*")


def org_leases_pattern() -> str:
    """SCAN pattern of every organisation's lease set (a rebuild empties them all)."""
    return _key("leases", "org", "*")


def leases_ready() -> str:
    """Marker HASH: the lease sets are complete (fresh system, or rebuilt from PostgreSQL).

    Holds the generation id, the Redis server's run_id and each set's version
    (``lua/lease_generation.lua``): a FLUSHDB removes it, and an
    evicted, restored or failed-over set no longer matches it.

    Named anew with the per-organisation sets: the previous release's marker
    (``legacy_lease_keys``) vouched for one organisation-wide set and no
    per-organisation ones, which would pass as "not yet written" (empty).
    Under the new name a store of that layout answers not_ready until rebuilt.
    """
    return _key("leases", "ready", "by-org")


def leases_rebuilding() -> str:
    """The marker while a rebuild writes it; renamed onto ``leases_ready`` at the end."""
    return _key("leases", "rebuilding", "by-org")


def legacy_lease_keys() -> list[str]:
    """The previous release's organisation-wide lease set, ready marker and its build key:
    never read any more; a rebuild deletes them so an upgraded Redis keeps nothing stale."""
    return [_key("leases", "org"), _key("leases", "ready"), _key("leases", "rebuilding")]


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
