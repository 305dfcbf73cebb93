"""A provider for tests: the simulated provider plus a ledger of its own.

Every ``place_call`` is appended to a Redis list (independent of the
dialer's tables) with the real instants the call starts and is due to end,
so tests can check from the provider's side: no call id twice, no contact
beyond its attempts, channel caps never exceeded.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import redis

from dialer.provider import CallRequest
from workers.providers.simulated import SimulatedProvider

LEDGER_KEY = "test:ledger"


def ledger_redis() -> redis.Redis:
    return redis.Redis.from_url(os.environ["DIALER_REDIS_URL"])


class RecordingProvider:
    """Loaded by workers through ``DIALER_PROVIDER=tests.support.recording:RecordingProvider``."""

    def __init__(self) -> None:
        from workers.bootstrap import runtime

        self._rt = runtime()
        self._inner = SimulatedProvider.from_runtime(self._rt)
        self._redis = ledger_redis()

    def place_call(self, request: CallRequest) -> str:
        behaviour = request.attributes.get("test_provider")
        if behaviour == "raise":
            self._record(request, 0.0, "raised")
            raise RuntimeError("carrier rejected the call")
        plan = self._inner.plan(request)
        duration_real_s = self._rt.clock.real_seconds(plan.total_s)
        if behaviour == "silent":
            # Never reports a result: the sweep must close it at the deadline.
            self._record(request, duration_real_s, "silent")
            return "silent"
        self._record(request, duration_real_s, plan.outcome)
        return self._inner.place_call(request)

    def poll(self, **kwargs: Any) -> int:
        return self._inner.poll(**kwargs)

    def _record(self, request: CallRequest, duration_real_s: float, outcome: str) -> None:
        start = time.time()
        self._redis.rpush(LEDGER_KEY, json.dumps({
            "call_id": request.call_id, "campaign_id": request.campaign_id,
            "contact_id": request.contact_id, "attempt": request.attempt, "to": request.to,
            "from_number": request.from_number, "outcome": outcome,
            "start": start, "end": start + duration_real_s, "pid": os.getpid(),
            "sim_start": self._rt.clock.now().isoformat(),
        }))


@dataclass(frozen=True)
class LedgerEntry:
    call_id: str
    campaign_id: str
    contact_id: int
    attempt: int
    to: str
    from_number: str | None
    outcome: str
    start: float
    end: float
    pid: int
    sim_start: str


def read_ledger(client: redis.Redis) -> list[LedgerEntry]:
    return [LedgerEntry(**json.loads(raw)) for raw in client.lrange(LEDGER_KEY, 0, -1)]


def max_overlap(entries: list[LedgerEntry], key: Any = None) -> int:
    """Most calls in progress at one instant (optionally per campaign)."""
    events: list[tuple[float, int]] = []
    for e in entries:
        if key is not None and key(e) is False:
            continue
        events.append((e.start, 1))
        events.append((e.end, -1))
    # Ends sort before starts at the same instant: a call that ends as another
    # starts does not overlap it.
    events.sort(key=lambda item: (item[0], item[1]))
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak
