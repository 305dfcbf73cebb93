"""What the service layer asks of coordination: channels, placement pacing, the breaker window.

Three small protocols, one per idea, each with a Redis implementation shared by
every worker on every host (``redis_leases``, ``redis_pacing``,
``redis_breaker``) and an in-memory one for one process (``memory``: fast
tests of the use cases). ``tests/contract/test_coordination.py`` holds both to
the same behaviour.

Every instant is simulated epoch seconds passed in by the caller (``now_s``):
no implementation reads a clock, so the simulated clock (up to 1000x real
time) works unchanged. PostgreSQL is the truth; all of this is rebuilt from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# The calls-per-minute window, simulated seconds.
WINDOW_S = 60.0
# Placements stay in the log for ten windows although only the last one is
# counted: a worker whose simulated clock lags another's, or whose request
# reaches Redis late (a few real ms are seconds at 1000x), must still see every
# placement it has to count; the guarantee holds for lags up to
# RETENTION_S - WINDOW_S. A redelivered dial is also recognised for longer.
RETENTION_S = 10 * WINDOW_S


@dataclass(frozen=True)
class LeaseResult:
    acquired: bool
    reason: str | None  # None when acquired; else 'campaign_full' | 'org_full' | 'not_ready'


@dataclass(frozen=True)
class PacingDecision:
    allowed: bool
    reason: str | None  # None | 'calls_per_minute' | 'spacing' | 'daily_limit'
    # Earliest now_s at which a retry could succeed; None if allowed, or if it
    # cannot succeed today (daily limit reached, or calls_per_minute == 0).
    retry_at_s: float | None


@dataclass(frozen=True)
class WindowCounts:
    total: int  # finished calls in the window (<= window size)
    failures: int  # of which 'failed'


class ChannelLeases(Protocol):
    """Channels as leases: a call holds one in its campaign and in its campaign's
    organisation until it releases it or its own deadline (``expires_at_s``) passes.

    Each organisation has a lease set of its own, counted against its own cap
    (``org_limit``): one organisation never takes another's channels. A call
    belongs to one campaign and a campaign to one organisation; callers pass
    the same ``org_id`` for a call at every step.

    After a loss (a wipe, an eviction, a failover) ``is_ready`` answers False
    and every acquire ``not_ready`` (after the loss of one set: from the first
    acquire that meets it) until ``rebuild`` has replaced the leases with
    PostgreSQL's picture of the calls in flight. Readiness is one for the
    whole store, as the rebuild is.
    """

    def acquire(self, call_id: str, *, campaign_id: str, org_id: str, campaign_limit: int,
                org_limit: int, now_s: float, expires_at_s: float) -> LeaseResult:
        """Take one channel for ``call_id`` in its campaign and its organisation, or say why
        not. Re-acquiring a lease the call holds takes no second channel and moves its
        expiry; a limit <= 0 allows nothing; ``expires_at_s <= now_s`` is a ValueError."""
        ...

    def release(self, call_id: str, *, campaign_id: str, org_id: str) -> None:
        """Free the channel; releasing twice, or a lease that expired, is harmless."""
        ...

    def in_use(self, campaign_id: str, *, now_s: float) -> int:
        """Unexpired leases of one campaign."""
        ...

    def org_in_use(self, org_id: str, *, now_s: float) -> int:
        """Unexpired leases of one organisation, across its campaigns."""
        ...

    def holders(self, campaign_id: str, *, now_s: float) -> list[str]:
        """Call ids holding an unexpired lease in the campaign, soonest expiry first."""
        ...

    def is_ready(self) -> bool:
        """False until ``rebuild`` (or ``mark_ready``) has run after a loss of any
        campaign's or organisation's set."""
        ...

    def mark_ready(self) -> None:
        """Declare an empty lease store complete (a fresh system with nothing in flight);
        RuntimeError if it is not ready and holds leases: rebuild it instead."""
        ...

    def rebuild(self, entries: Iterable[tuple[str, str, str, float]], *, now_s: float) -> None:
        """Replace every lease, of every campaign and organisation, with the calls in flight
        per PostgreSQL, ``(call_id, campaign_id, org_id, expires_at_s)``, skipping expired
        ones; ready after."""
        ...


class PacingLimiter(Protocol):
    """Calls per minute (a sliding window of ``WINDOW_S``), spacing and the daily limit
    per campaign, decided and recorded in one step."""

    def try_acquire(self, campaign_id: str, call_id: str, *, now_s: float,
                    calls_per_minute: int | None, spacing_s: float, daily_limit: int | None,
                    day_key: str) -> PacingDecision:
        """Record the placement of ``call_id`` now if every limit allows it.

        ``None`` limits are unlimited; 0 allows nothing. ``day_key`` is the
        campaign-local date ('YYYY-MM-DD'), computed by the caller, which owns
        the time zone. When several limits refuse, the daily limit wins (nothing
        helps until tomorrow), else the one whose retry is later. Idempotent per
        ``call_id``: one already recorded passes again without being counted again.
        """
        ...

    def usage(self, campaign_id: str, *, now_s: float, day_key: str) -> dict[str, float]:
        """``{'last_minute': n, 'today': n, 'last_placement_s': x}`` (x is 0.0 if none known);
        ``last_minute`` counts exactly what ``try_acquire`` counts at ``now_s``."""
        ...

    def rebuild(self, campaign_id: str, placements: Iterable[tuple[str, float]], *,
                day_key: str, today_count: int, now_s: float) -> None:
        """Restore pacing from PostgreSQL's placed calls ``(call_id, placed_at_s)``
        (older than ``RETENTION_S`` skipped) and ``today_count`` placed on ``day_key``.
        Only adds or raises, never lowers: idempotent and safe while calls are placed."""
        ...


class BreakerWindow(Protocol):
    """The last N finished calls of a campaign, for the circuit breaker (``dialer.breaker``
    decides what a failure is and whether the counts trip it)."""

    def record(self, campaign_id: str, call_id: str, *, failed: bool,
               window: int) -> WindowCounts:
        """Add one finished call and return the counts over the last ``window`` calls
        (``window`` < 1 is a ValueError). A call already in the window is not added
        again: a replayed result must not count twice."""
        ...

    def snapshot(self, campaign_id: str, *, window: int) -> WindowCounts:
        """The counts over the last ``window`` calls, without recording anything."""
        ...

    def reset(self, campaign_id: str) -> None:
        """Forget the window: a reset breaker starts counting afresh."""
        ...
