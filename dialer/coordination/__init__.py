"""Coordination between workers: channel leases, placement pacing, the breaker window.

The service layer depends on the protocols of ``interfaces`` only; the
runtime injects the Redis implementations (``redis_leases``, ``redis_pacing``,
``redis_breaker``, their Lua scripts in ``lua/`` and every key name in
``redis_keys``), and tests of the use cases may inject ``memory``'s.
"""

from dialer.coordination.interfaces import (
    RETENTION_S,
    WINDOW_S,
    BreakerWindow,
    ChannelLeases,
    LeaseResult,
    PacingDecision,
    PacingLimiter,
    WindowCounts,
)

__all__ = ["RETENTION_S", "WINDOW_S", "BreakerWindow", "ChannelLeases", "LeaseResult",
           "PacingDecision", "PacingLimiter", "WindowCounts"]
