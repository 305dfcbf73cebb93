"""The global placement limiter: calls per minute, spacing and the daily limit.

Celery's ``rate_limit`` is per worker, so with many workers it limits nothing;
this limiter lives in Redis and is shared by every worker on every host. Each
decision is one Lua script: check all three limits and, only if all allow,
record the placement — so two workers can never both take the last slot.

Calls per minute is a sliding-window log (a ZSET of placement instants), not a
fixed bucket: there are never more than N placements in ANY 60 simulated
seconds, including across a minute boundary. All instants are simulated epoch
seconds passed in by the caller; the only real-time value is the EXPIRE that
garbage-collects idle keys.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis

from dialer.coordination import redis_keys
from dialer.coordination.interfaces import RETENTION_S, WINDOW_S, PacingDecision
from dialer.coordination.lua_scripts import as_text, lua_source, seconds_arg

# Real seconds, for garbage collection only: long past any simulated day or
# window the keys could still matter for at any time scale >= 1.
GC_TTL_REAL_S = 3 * 24 * 3600

_REBUILD_CHUNK = 1000


class PlacementLimiter:
    """Calls per minute, spacing and daily limit per campaign (``PacingLimiter``) in Redis,
    shared by all workers."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._try_acquire = redis.register_script(lua_source("pacing_try_acquire.lua"))
        self._rebuild = redis.register_script(lua_source("pacing_rebuild.lua"))

    def try_acquire(self, campaign_id: str, call_id: str, *, now_s: float,
                    calls_per_minute: int | None, spacing_s: float, daily_limit: int | None,
                    day_key: str) -> PacingDecision:
        """``PacingLimiter.try_acquire``: one Lua script decides and records."""
        allowed, reason, retry_at = self._try_acquire(
            keys=[redis_keys.placements(campaign_id), redis_keys.last_placement(campaign_id),
                  redis_keys.daily_count(campaign_id, day_key)],
            args=[seconds_arg(now_s, "now_s"), str(call_id),
                  "" if calls_per_minute is None else int(calls_per_minute),
                  seconds_arg(spacing_s, "spacing_s"),
                  "" if daily_limit is None else int(daily_limit),
                  repr(WINDOW_S), repr(RETENTION_S), GC_TTL_REAL_S])
        if int(allowed) == 1:
            return PacingDecision(allowed=True, reason=None, retry_at_s=None)
        retry_text = as_text(retry_at)
        return PacingDecision(allowed=False, reason=as_text(reason),
                              retry_at_s=float(retry_text) if retry_text else None)

    def usage(self, campaign_id: str, *, now_s: float, day_key: str) -> dict[str, float]:
        """``{'last_minute': n, 'today': n, 'last_placement_s': x}`` (x is 0.0 if none known).

        ``last_minute`` counts exactly what ``try_acquire`` counts at ``now_s``.
        """
        cutoff = f"({seconds_arg(float(now_s) - WINDOW_S, 'now_s')}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.zcount(redis_keys.placements(campaign_id), cutoff, "+inf")
        pipe.get(redis_keys.daily_count(campaign_id, day_key))
        pipe.get(redis_keys.last_placement(campaign_id))
        last_minute, today, last = pipe.execute()
        return {
            "last_minute": float(last_minute),
            "today": float(as_text(today) or 0),
            "last_placement_s": float(as_text(last) or 0.0),
        }

    def rebuild(self, campaign_id: str, placements: Iterable[tuple[str, float]], *,
                day_key: str, today_count: int, now_s: float) -> None:
        """Restore pacing after a Redis wipe from PostgreSQL's placed calls.

        ``placements`` are ``(call_id, placed_at_s)`` of recent calls (older
        than the retention are skipped), ``today_count`` the calls placed on
        ``day_key``. Only adds or raises, never lowers, so it is idempotent and
        safe while workers keep placing calls.
        """
        now_text = seconds_arg(now_s, "now_s")
        entries = [(str(call_id), seconds_arg(placed_at_s, "placed_at_s"))
                   for call_id, placed_at_s in placements]
        chunks = [entries[i:i + _REBUILD_CHUNK]
                  for i in range(0, len(entries), _REBUILD_CHUNK)] or [[]]
        keys = [redis_keys.placements(campaign_id), redis_keys.last_placement(campaign_id),
                redis_keys.daily_count(campaign_id, day_key)]
        for chunk in chunks:
            args: list[str | int] = [now_text, int(today_count), repr(RETENTION_S), GC_TTL_REAL_S]
            for call_id, placed_at_text in chunk:
                args.extend((call_id, placed_at_text))
            self._rebuild(keys=keys, args=args)
