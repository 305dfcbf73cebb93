"""Forecast: how fast a campaign will dial and when it will be done (pure).

It simulates the campaign forward with the same calendar and pacing rules
the tick uses, in steps of simulated time: while a group of contacts has its
window open it takes its share of the dialing rate; retries come back after
the retry delay; nights, weekends and holidays pass without calls.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dialer.calendar import CallingRules
from dialer.pacing import min_gap_s
from dialer.spec import CampaignSpec

STEP = timedelta(minutes=1)
# Work that becomes callable at an instant: (available_at, seq, group, calls, wave).
Work = tuple[datetime, int, int, float, int]
HORIZON = timedelta(days=120)  # an ETA further away is not given (eta None)


@dataclass(frozen=True)
class ContactGroup:
    """Contacts that share their calling zones."""

    zones: tuple[str, ...]
    guard_zones: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class ForecastResult:
    calls_per_hour: float
    eta: datetime | None
    expected_calls: float


def dialing_rate_per_s(spec: CampaignSpec, *, avg_call_s: float, org_cap: int) -> float:
    """Calls per simulated second the pacing allows while windows are open."""
    channels = min(spec.pacing.channels, org_cap)
    if channels <= 0:
        return 0.0
    rate = channels / max(avg_call_s, 1.0)
    gap = min_gap_s(spec.pacing)
    if gap > 0:
        rate = min(rate, 1.0 / gap)
    return rate


def no_calls_reason(spec: CampaignSpec, *, org_cap: int) -> str | None:
    """Why the pacing would place no call at all (a rate of 0), or None."""
    if spec.pacing.channels <= 0:
        return "the pacing has no channels"
    if org_cap <= 0:
        return "the organisation has no channels"
    return None


def expected_calls_per_contact(*, retry_share: float, attempts_left: int) -> float:
    """1 + r + r^2 + ... over the attempts left: each call retries with probability r."""
    return sum(retry_share ** k for k in range(max(attempts_left, 0)))


def simulate(
    *, spec: CampaignSpec, groups: list[ContactGroup], now: datetime, avg_call_s: float,
    retry_share: float, org_cap: int, placed_today: int = 0,
) -> ForecastResult:
    rules = CallingRules.of(spec)
    rate = dialing_rate_per_s(spec, avg_call_s=avg_call_s, org_cap=org_cap)
    attempts = spec.retry.max_attempts
    expected = sum(g.count * expected_calls_per_contact(retry_share=retry_share,
                                                        attempts_left=attempts) for g in groups)
    if rate <= 0 or not groups:
        return ForecastResult(rate * 3600, now if not groups else None, expected)
    delay = timedelta(minutes=spec.retry.retry_delay_minutes)
    queue: list[Work] = [
        (now, i, i, float(g.count), 0) for i, g in enumerate(groups)]
    heapq.heapify(queue)
    seq = len(groups)
    ready = [0.0] * len(groups)
    waves: list[list[tuple[float, int]]] = [[] for _ in groups]
    t = now
    day, done_today = t.astimezone(spec.zone).date(), float(placed_today)
    last_call = now
    while (queue or any(r > 1e-6 for r in ready)) and t < now + HORIZON:
        while queue and queue[0][0] <= t:
            _, _, group, calls, wave = heapq.heappop(queue)
            ready[group] += calls
            waves[group].append((calls, wave))
        open_groups = [i for i, g in enumerate(groups)
                       if ready[i] > 1e-6 and rules.is_open(t, g.zones, g.guard_zones)]
        if t.astimezone(spec.zone).date() != day:
            day, done_today = t.astimezone(spec.zone).date(), 0.0
        capacity = rate * STEP.total_seconds()
        if spec.pacing.daily_limit is not None:
            capacity = min(capacity, max(0.0, spec.pacing.daily_limit - done_today))
        if open_groups and capacity <= 0:  # the daily limit is spent: tomorrow
            local = t.astimezone(spec.zone)
            t = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=spec.zone)
            continue
        if not open_groups:
            nxt = _next_event(t, rules, groups, ready, queue)
            if nxt is None:
                return ForecastResult(rate * 3600, None, expected)
            t = nxt
            continue
        total_ready = sum(ready[i] for i in open_groups)
        for i in open_groups:
            placed = min(ready[i], capacity * ready[i] / total_ready)
            ready[i] -= placed
            done_today += placed
            last_call = t + STEP
            seq = _schedule_retries(queue, seq, waves[i], placed, i, t + STEP + delay,
                                    retry_share, attempts)
        t += STEP
    finished = not queue and all(r <= 1e-6 for r in ready)
    return ForecastResult(rate * 3600, last_call if finished else None, expected)


def _schedule_retries(queue: list[Work], seq: int, group_waves: list[tuple[float, int]],
                      placed: float, group: int, at: datetime, retry_share: float,
                      attempts: int) -> int:
    """Placed calls of the oldest waves first; a share of them comes back one wave later."""
    remaining = placed
    while remaining > 1e-9 and group_waves:
        calls, wave = group_waves[0]
        used = min(calls, remaining)
        remaining -= used
        if used >= calls - 1e-9:
            group_waves.pop(0)
        else:
            group_waves[0] = (calls - used, wave)
        if wave + 1 < attempts and retry_share > 0:
            heapq.heappush(queue, (at, seq, group, used * retry_share, wave + 1))
            seq += 1
    return seq


def _next_event(t: datetime, rules: CallingRules, groups: list[ContactGroup],
                ready: list[float], queue: list[Work]) -> datetime | None:
    """Skip closed time: the next window opening for waiting work, or new work arriving."""
    candidates = []
    for i, g in enumerate(groups):
        if ready[i] > 1e-6:
            opening = rules.next_opening(t + timedelta(microseconds=1), g.zones, g.guard_zones)
            if opening is not None:
                candidates.append(opening)
    if queue:
        candidates.append(max(queue[0][0], t + timedelta(microseconds=1)))
    return min(candidates) if candidates else None
