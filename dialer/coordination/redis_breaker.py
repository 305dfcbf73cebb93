"""The circuit breaker's window: the last N finished calls of a campaign.

A Redis list, newest first, trimmed to the window and counted inside one Lua
script, so results arriving at once on many workers each see an exact count.
What counts as a failure is the caller's decision (``dialer.breaker``): busy
and no-answer are the normal life of outbound calling, only ``failed`` is not.
Whether the counts trip the breaker is a pure rule too; this is only storage.
"""

from __future__ import annotations

from redis import Redis

from dialer.coordination import redis_keys
from dialer.coordination.checks import window_size
from dialer.coordination.interfaces import WindowCounts
from dialer.coordination.lua_scripts import lua_source


class BreakerCounter:
    """The breaker window (``BreakerWindow``) in Redis: recent outcomes per campaign,
    '1' failed / '0' ok, tagged with the call id."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._record = redis.register_script(lua_source("breaker_record.lua"))

    def record(self, campaign_id: str, call_id: str, *, failed: bool, window: int) -> WindowCounts:
        """Add one finished call and return the counts over the last ``window`` calls.

        A call already in the window is not added again (a replayed result
        must not count twice); the counts are still returned.
        """
        total, failures = self._record(
            keys=[redis_keys.breaker_window(campaign_id)],
            args=[str(call_id), "1" if failed else "0", window_size(window)])
        return WindowCounts(total=int(total), failures=int(failures))

    def snapshot(self, campaign_id: str, *, window: int) -> WindowCounts:
        """The counts over the last ``window`` calls, without recording anything."""
        entries = self._redis.lrange(redis_keys.breaker_window(campaign_id), 0,
                                     window_size(window) - 1)
        failures = sum(1 for entry in entries if entry[:1] in (b"1", "1"))
        return WindowCounts(total=len(entries), failures=failures)

    def reset(self, campaign_id: str) -> None:
        """Forget the window: a reset breaker starts counting afresh."""
        self._redis.delete(redis_keys.breaker_window(campaign_id))
