"""Coordination in one process's memory: the same answers as the Redis implementations.

For tests of the use cases that need no Redis (and for nothing else: a second
process would not see these leases). Each method holds one lock for its whole
decision, as each Redis one is a single Lua script, so threads of one process
never see half a decision. Instants are the caller's ``now_s`` as in Redis;
nothing here reads a clock or expires on its own. ``forget`` plays a Redis
wipe (every acquire answers ``not_ready`` until a rebuild), and
``MemoryChannelLeases.forget_org`` the eviction of one organisation's set.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from dialer.coordination.checks import finite_seconds, lease_span, window_size
from dialer.coordination.interfaces import (
    RETENTION_S,
    WINDOW_S,
    LeaseResult,
    PacingDecision,
    WindowCounts,
)


def _unexpired(leases: dict[str, float], now_s: float) -> list[tuple[float, str]]:
    """(expires_at_s, call_id) of the leases still held at ``now_s``, soonest first
    (ties by call id, as a sorted set orders them)."""
    return sorted((expires_at_s, call_id) for call_id, expires_at_s in leases.items()
                  if expires_at_s > now_s)


class MemoryChannelLeases:
    """``ChannelLeases``: {call_id: expires_at_s} per campaign and per organisation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._campaigns: dict[str, dict[str, float]] = {}
        # An organisation's set exists from its first lease until a release leaves it
        # with none, as its Redis set does (pruning keeps it): only then can it be lost.
        self._orgs: dict[str, dict[str, float]] = {}
        # Organisations whose set was lost (``forget_org``) since the last rebuild.
        self._lost: set[str] = set()
        # Like an empty Redis: nothing is known until rebuilt (or marked ready).
        self._ready = False

    def acquire(self, call_id: str, *, campaign_id: str, org_id: str, campaign_limit: int,
                org_limit: int, now_s: float, expires_at_s: float) -> LeaseResult:
        lease_span(now_s, expires_at_s)
        now = finite_seconds(now_s, "now_s")
        expires = finite_seconds(expires_at_s, "expires_at_s")
        call, campaign, org = str(call_id), str(campaign_id), str(org_id)
        with self._lock:
            if not self._ready:
                return LeaseResult(acquired=False, reason="not_ready")
            if org in self._lost:
                # As the Redis script drops the marker: nothing is acquired until rebuilt.
                self._ready = False
                return LeaseResult(acquired=False, reason="not_ready")
            # A lease past its deadline belongs to a call that died without releasing.
            held = {c: e for c, e in self._campaigns.get(campaign, {}).items() if e > now}
            self._campaigns[campaign] = held
            org_held: dict[str, float] = {}
            if org in self._orgs:
                org_held = {c: e for c, e in self._orgs[org].items() if e > now}
                self._orgs[org] = org_held
            if call not in held:
                if campaign_limit <= 0 or len(held) >= campaign_limit:
                    self._drop_if_empty(campaign)
                    return LeaseResult(acquired=False, reason="campaign_full")
                # A call in the org set is the same call: it must not count twice.
                if call not in org_held and (org_limit <= 0 or len(org_held) >= org_limit):
                    self._drop_if_empty(campaign)
                    return LeaseResult(acquired=False, reason="org_full")
            held[call] = expires
            self._orgs.setdefault(org, org_held)[call] = expires
            return LeaseResult(acquired=True, reason=None)

    def release(self, call_id: str, *, campaign_id: str, org_id: str) -> None:
        call, org = str(call_id), str(org_id)
        with self._lock:
            self._campaigns.get(str(campaign_id), {}).pop(call, None)
            self._drop_if_empty(str(campaign_id))
            org_held = self._orgs.get(org)
            # Its last lease (expired ones count until pruned) takes the set with it, as
            # in Redis, where a store that is not ready is left for the rebuild.
            if (org_held is not None and org_held.pop(call, None) is not None
                    and not org_held and self._ready):
                del self._orgs[org]

    def in_use(self, campaign_id: str, *, now_s: float) -> int:
        return len(self.holders(campaign_id, now_s=now_s))

    def org_in_use(self, org_id: str, *, now_s: float) -> int:
        now = finite_seconds(now_s, "now_s")
        with self._lock:
            return len(_unexpired(self._orgs.get(str(org_id), {}), now))

    def holders(self, campaign_id: str, *, now_s: float) -> list[str]:
        now = finite_seconds(now_s, "now_s")
        with self._lock:
            return [call for _, call in _unexpired(self._campaigns.get(str(campaign_id), {}),
                                                    now)]

    def is_ready(self) -> bool:
        with self._lock:
            return self._ready and not self._lost

    def mark_ready(self) -> None:
        with self._lock:
            if self._ready and not self._lost:
                return
            if self._campaigns or self._orgs:
                raise RuntimeError("mark_ready is for an empty lease store; rebuild from "
                                   "PostgreSQL instead (dialer.service.leasing)")
            self._ready, self._lost = True, set()

    def rebuild(self, entries: Iterable[tuple[str, str, str, float]], *, now_s: float) -> None:
        now = finite_seconds(now_s, "now_s")
        leases = [(str(call_id), str(campaign_id), str(org_id),
                   finite_seconds(expires_at_s, "expires_at_s"))
                  for call_id, campaign_id, org_id, expires_at_s in entries]
        with self._lock:
            self._campaigns, self._orgs, self._lost = {}, {}, set()
            for call, campaign, org, expires in leases:
                if expires > now:  # an expired call would only be pruned again
                    # Only ever raised, like ZADD GT: a call listed twice keeps its latest.
                    for held in (self._campaigns.setdefault(campaign, {}),
                                 self._orgs.setdefault(org, {})):
                        held[call] = max(expires, held.get(call, -math.inf))
            self._ready = True

    def forget(self) -> None:
        """Lose everything, as a FLUSHDB of the coordination db does."""
        with self._lock:
            self._campaigns, self._orgs, self._lost, self._ready = {}, {}, set(), False

    def forget_org(self, org_id: str) -> None:
        """Lose one organisation's set, as an eviction of its Redis key does (the marker
        stays): ``is_ready`` answers False, an acquire in that organisation ``not_ready``
        (and every acquire after it), until a rebuild."""
        with self._lock:
            if self._orgs.pop(str(org_id), None) is not None:
                self._lost.add(str(org_id))

    def _drop_if_empty(self, campaign_id: str) -> None:
        if not self._campaigns.get(campaign_id, True):
            del self._campaigns[campaign_id]


@dataclass
class _Pacing:
    placements: dict[str, float] = field(default_factory=dict)  # call_id: placed_at_s
    last_s: float | None = None
    per_day: dict[str, int] = field(default_factory=dict)  # day_key: placements


def _at_least(base: float, delta: float) -> float:
    """The smallest r >= base + delta with r - delta >= base in floating point, so a
    retry at exactly r passes the same test (placed_at > now - window)."""
    r = base + delta
    while r - delta < base:
        r = math.nextafter(r, math.inf)
    return r


class MemoryPacingLimiter:
    """``PacingLimiter``: a log of placement instants, the latest one and a count per day,
    per campaign."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._campaigns: dict[str, _Pacing] = {}

    def try_acquire(self, campaign_id: str, call_id: str, *, now_s: float,
                    calls_per_minute: int | None, spacing_s: float, daily_limit: int | None,
                    day_key: str) -> PacingDecision:
        now = finite_seconds(now_s, "now_s")
        spacing = finite_seconds(spacing_s, "spacing_s")
        cpm = None if calls_per_minute is None else int(calls_per_minute)
        daily = None if daily_limit is None else int(daily_limit)
        with self._lock:
            state = self._campaigns.setdefault(str(campaign_id), _Pacing())
            state.placements = {c: t for c, t in state.placements.items()
                                if t > now - RETENTION_S}
            if str(call_id) in state.placements:  # a redelivered dial, already counted
                return PacingDecision(allowed=True, reason=None, retry_at_s=None)
            if daily is not None and state.per_day.get(day_key, 0) >= daily:
                return PacingDecision(allowed=False, reason="daily_limit", retry_at_s=None)
            reason: str | None = None
            retry_at_s: float | None = None
            if cpm is not None:
                if cpm <= 0:
                    return PacingDecision(allowed=False, reason="calls_per_minute",
                                          retry_at_s=None)
                in_window = sorted(t for t in state.placements.values() if t > now - WINDOW_S)
                if len(in_window) >= cpm:
                    # Enough of the oldest must leave the window for the count to drop below N.
                    reason = "calls_per_minute"
                    retry_at_s = _at_least(in_window[len(in_window) - cpm], WINDOW_S)
            if spacing > 0 and state.last_s is not None and now < state.last_s + spacing:
                spacing_retry_s = state.last_s + spacing
                if retry_at_s is None or spacing_retry_s > retry_at_s:
                    reason, retry_at_s = "spacing", spacing_retry_s
            if reason is not None:
                return PacingDecision(allowed=False, reason=reason, retry_at_s=retry_at_s)
            state.placements[str(call_id)] = now
            # Only moves forward: a caller whose clock lags must not make spacing looser.
            if state.last_s is None or now > state.last_s:
                state.last_s = now
            state.per_day[day_key] = state.per_day.get(day_key, 0) + 1
            return PacingDecision(allowed=True, reason=None, retry_at_s=None)

    def usage(self, campaign_id: str, *, now_s: float, day_key: str) -> dict[str, float]:
        cutoff = finite_seconds(float(now_s) - WINDOW_S, "now_s")
        with self._lock:
            state = self._campaigns.get(str(campaign_id), _Pacing())
            return {
                "last_minute": float(sum(1 for t in state.placements.values() if t > cutoff)),
                "today": float(state.per_day.get(day_key, 0)),
                "last_placement_s": state.last_s or 0.0,
            }

    def rebuild(self, campaign_id: str, placements: Iterable[tuple[str, float]], *,
                day_key: str, today_count: int, now_s: float) -> None:
        now = finite_seconds(now_s, "now_s")
        entries = [(str(call_id), finite_seconds(placed_at_s, "placed_at_s"))
                   for call_id, placed_at_s in placements]
        with self._lock:
            state = self._campaigns.setdefault(str(campaign_id), _Pacing())
            # Only adds or raises, never lowers: pacing can only get stricter.
            for call, placed_at_s in entries:
                if placed_at_s > now - RETENTION_S:
                    state.placements[call] = max(placed_at_s,
                                                 state.placements.get(call, -math.inf))
                if state.last_s is None or placed_at_s > state.last_s:
                    state.last_s = placed_at_s
            state.per_day[day_key] = max(state.per_day.get(day_key, 0), int(today_count))

    def forget(self) -> None:
        """Lose everything, as a FLUSHDB of the coordination db does."""
        with self._lock:
            self._campaigns = {}


class MemoryBreakerWindow:
    """``BreakerWindow``: per campaign, the recent finished calls, newest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, list[tuple[str, bool]]] = {}  # (call_id, failed)

    def record(self, campaign_id: str, call_id: str, *, failed: bool,
               window: int) -> WindowCounts:
        size = window_size(window)
        with self._lock:
            entries = self._windows.setdefault(str(campaign_id), [])
            if all(call != str(call_id) for call, _ in entries):  # a replayed result
                entries.insert(0, (str(call_id), bool(failed)))
            del entries[size:]
            return _counts(entries[:size])

    def snapshot(self, campaign_id: str, *, window: int) -> WindowCounts:
        size = window_size(window)
        with self._lock:
            return _counts(self._windows.get(str(campaign_id), [])[:size])

    def reset(self, campaign_id: str) -> None:
        with self._lock:
            self._windows.pop(str(campaign_id), None)

    def forget(self) -> None:
        """Lose everything, as a FLUSHDB of the coordination db does."""
        with self._lock:
            self._windows = {}


def _counts(entries: list[tuple[str, bool]]) -> WindowCounts:
    return WindowCounts(total=len(entries), failures=sum(1 for _, failed in entries if failed))
