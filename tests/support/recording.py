"""A provider for tests: the simulated provider plus a ledger of its own.

Every ``place_call`` is appended to a Redis list (independent of the
dialer's tables) with the real instants the call starts and the channel is
certainly still held, so tests can check from the provider's side: no call
id twice, no contact beyond its attempts, channel caps never exceeded.

The ledger lives outside the dialer's Redis db (chaos tests FLUSHDB that
one): by default in db 15 of the same server, under keys named after the
dialer's db so that runs on different dbs never mix;
``DIALER_TEST_LEDGER_REDIS_URL`` moves it elsewhere.

What the provider does with a call is the contact's attribute
``test_provider``, for every attempt (a string) or per attempt (a list, the
last entry repeating, like ``sim_outcomes``):

- absent or ``None``: the simulated call, its result sent after its time;
- ``"raise"``: ``place_call`` raises (the call was never placed);
- ``"silent"``: no result ever comes;
- ``"hold"``: the result is kept in the ledger's db for the test to deliver
  (``held_results`` / ``mark_delivered``), late, twice or out of order;
- ``"hang"``: ``place_call`` blocks for ``test_hang_s`` real seconds (default
  40, longer than any dial time limit the tests set), then returns without a
  result ever coming; the end of each hang is noted (``hangs_ended``);
- ``"refuse"``: ``place_call`` raises ``CallRefused`` (certainly not placed)
  the first ``test_refusals`` times (default 1) it is asked for this
  contact, with ``test_retry_after_s`` as its retry-after, ``test_refusal`` as
  its reason and ``permanent`` when ``test_refuse_permanently`` is true; then it
  places the call as usual. Refusals are counted apart (``refusals``), not in the
  ledger of placed calls.

``"raise"``, ``"silent"`` and ``"hang"`` calls may be ringing as far as the
dialer can know, so their ledger interval lasts ring + max duration: the
dialer must hold their channel, and call the contact again only after it.

``test_place_delay_s`` makes ``place_call`` take that many real seconds (a
slow carrier API), so that dial tasks queue up in the broker.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import redis

from dialer.provider import CallRefused, CallRequest
from dialer.providers.simulated import SimulatedProvider

LEDGER_URL_ENV = "DIALER_TEST_LEDGER_REDIS_URL"
LEDGER_DEFAULT_DB = 15
# Results owed to the dialer are re-sent this long (real seconds) after they
# were due while PostgreSQL still shows the call open: a provider retrying
# its webhook. Must stay well under the grace before a silent call is closed.
REDELIVER_AFTER_REAL_S = 3.0
DEFAULT_HANG_S = 40.0


def ledger_url(stack_redis_url: str) -> str:
    return os.environ.get(LEDGER_URL_ENV) or with_db(stack_redis_url, LEDGER_DEFAULT_DB)


def ledger_keys(stack_redis_url: str) -> LedgerKeys:
    tag = _db_of(stack_redis_url)
    return LedgerKeys(calls=f"test:ledger:{tag}", held=f"test:held:{tag}",
                      delivered=f"test:delivered:{tag}", owed=f"test:owed:{tag}",
                      refused=f"test:refused:{tag}", hangs_ended=f"test:hangs-ended:{tag}")


@dataclass(frozen=True)
class LedgerKeys:
    calls: str  # list: one JSON entry per place_call
    held: str  # list: results of "hold" calls, in placement order
    delivered: str  # hash {call_id: real instant the test sent its result}
    owed: str  # sorted set: results the provider owes, by real due instant
    refused: str  # hash {campaign_id:contact_id: refusals so far}
    hangs_ended: str  # hash {call_id: real instant its hang ended}

    def all(self) -> tuple[str, ...]:
        return (self.calls, self.held, self.delivered, self.owed, self.refused,
                self.hangs_ended)


class RecordingProvider:
    """Loaded by workers through ``DIALER_PROVIDER=tests.support.recording:RecordingProvider``."""

    def __init__(self) -> None:
        from workers.bootstrap import runtime

        self._rt = runtime()
        self._inner = SimulatedProvider.from_runtime(self._rt)
        stack_url = os.environ["DIALER_REDIS_URL"]
        self._redis = redis.Redis.from_url(ledger_url(stack_url))
        self._keys = ledger_keys(stack_url)

    def place_call(self, request: CallRequest) -> str:
        behaviour = _behaviour(request.attributes.get("test_provider"), request.attempt)
        if behaviour == "refuse" and self._refuse(request):
            retry_after = request.attributes.get("test_retry_after_s")
            raise CallRefused(
                str(request.attributes.get("test_refusal", "carrier busy, not dialed")),
                retry_after_s=None if retry_after is None else float(retry_after),
                permanent=request.attributes.get("test_refuse_permanently") is True)
        # Without a result the dialer holds the channel at least this long
        # (ring + max duration, plus a grace it keeps to itself).
        timeout_real_s = self._rt.clock.real_seconds(request.ring_timeout_s
                                                     + request.max_duration_s)
        if behaviour == "raise":
            # Unknown whether the carrier placed it: it may ring that long.
            self._record(request, timeout_real_s, "raised")
            raise RuntimeError("carrier connection reset")
        if behaviour == "hang":
            self._record(request, timeout_real_s, "hung")
            time.sleep(float(request.attributes.get("test_hang_s", DEFAULT_HANG_S)))
            self._redis.hset(self._keys.hangs_ended, request.call_id, repr(time.time()))
            return "hung"
        plan = self._inner.plan(request)
        if behaviour == "silent":
            self._record(request, timeout_real_s, "silent")
            return "silent"
        result = {"call_id": request.call_id, "outcome": plan.outcome,
                  "duration_s": round(plan.talk_s, 3), "goal_achieved": plan.goal_achieved,
                  "detail": "recorded"}
        if behaviour == "hold":
            self._record(request, timeout_real_s, plan.outcome, held={
                "result": result, "campaign_id": request.campaign_id,
                "contact_id": request.contact_id, "attempt": request.attempt,
                "deliver": request.attributes.get("test_deliver")})
            return "held"
        duration_real_s = self._rt.clock.real_seconds(plan.total_s)
        start = self._record(request, min(duration_real_s, timeout_real_s), plan.outcome)
        time.sleep(float(request.attributes.get("test_place_delay_s", 0.0)))
        # Kept where a FLUSHDB of the dialer's Redis cannot reach it (its own
        # outbox can): ``poll`` re-sends it if the dialer never got it.
        self._redis.zadd(self._keys.owed, {json.dumps(result): start + duration_real_s})
        return self._inner.place_call(request)

    def poll(self, *, now: datetime, open_calls: Callable[[list[str]], set[str]],
             **kwargs: Any) -> int:
        resent = self._inner.poll(now=now, open_calls=open_calls, **kwargs)
        cutoff = time.time() - REDELIVER_AFTER_REAL_S
        raw = self._redis.zrangebyscore(self._keys.owed, "-inf", cutoff, start=0, num=1000)
        if not raw:
            return resent
        self._redis.zrem(self._keys.owed, *raw)
        owed = [json.loads(item) for item in raw]
        still_open = open_calls([r["call_id"] for r in owed])
        for result in owed:
            if result["call_id"] in still_open:
                self._rt.dispatcher.send_result(
                    result["call_id"], outcome=result["outcome"],
                    duration_s=result["duration_s"], goal_achieved=result["goal_achieved"],
                    detail="recorded (redelivered)", countdown_s=0.0)
                resent += 1
        return resent

    def _refuse(self, request: CallRequest) -> bool:
        """Whether this request is among the contact's first ``test_refusals``."""
        refusals = int(request.attributes.get("test_refusals", 1))
        count = self._redis.hincrby(self._keys.refused,
                                    f"{request.campaign_id}:{request.contact_id}", 1)
        return count <= refusals

    def _record(self, request: CallRequest, held_real_s: float, outcome: str, *,
                held: dict[str, Any] | None = None) -> float:
        # Written after the channel lease was taken and before the result can
        # be sent: [start, end) lies inside the lease, so the overlap of the
        # ledger's intervals may be compared with the caps exactly.
        start = time.time()
        pipe = self._redis.pipeline(transaction=True)
        pipe.rpush(self._keys.calls, json.dumps({
            "call_id": request.call_id, "campaign_id": request.campaign_id,
            "contact_id": request.contact_id, "attempt": request.attempt, "to": request.to,
            "from_number": request.from_number, "outcome": outcome,
            "start": start, "end": start + held_real_s, "pid": os.getpid(),
            "sim_start": self._rt.clock.now().isoformat(),
        }))
        if held is not None:
            pipe.rpush(self._keys.held, json.dumps(held))
        pipe.execute()
        return start


def _behaviour(value: Any, attempt: int) -> str | None:
    if isinstance(value, list):
        return value[min(attempt, len(value)) - 1] if value else None
    return value


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


class Ledger:
    """The test's side of the ledger of one stack (given by its dialer Redis URL)."""

    def __init__(self, stack_redis_url: str) -> None:
        self.url = ledger_url(stack_redis_url)
        self.keys = ledger_keys(stack_redis_url)
        self.redis = redis.Redis.from_url(self.url)

    def clear(self) -> None:
        self.redis.delete(*self.keys.all())

    def entries(self) -> list[LedgerEntry]:
        delivered = {k.decode(): float(v)
                     for k, v in self.redis.hgetall(self.keys.delivered).items()}
        entries = [LedgerEntry(**json.loads(raw))
                   for raw in self.redis.lrange(self.keys.calls, 0, -1)]
        # A held call's channel may be freed as soon as the test sends its result.
        return [replace(e, end=min(e.end, delivered[e.call_id])) if e.call_id in delivered
                else e for e in entries]

    def held_results(self) -> list[dict[str, Any]]:
        """Held calls in the order they were placed: ``result`` (the ``dialer.call_result``
        keyword arguments), ``campaign_id``, ``contact_id``, ``attempt``, and ``deliver``
        (the contact's ``test_deliver`` attribute, for the test's own use)."""
        return [json.loads(raw) for raw in self.redis.lrange(self.keys.held, 0, -1)]

    def refusals(self) -> dict[str, int]:
        """``{campaign_id:contact_id: times place_call was asked}`` of "refuse" contacts."""
        return {k.decode(): int(v) for k, v in self.redis.hgetall(self.keys.refused).items()}

    def hangs_ended(self) -> dict[str, float]:
        """``{call_id: real instant}`` of the hangs that are over."""
        return {k.decode(): float(v)
                for k, v in self.redis.hgetall(self.keys.hangs_ended).items()}

    def mark_delivered(self, call_id: str) -> None:
        """Say, before sending it, that a held call's result is on its way."""
        self.redis.hsetnx(self.keys.delivered, call_id, repr(time.time()))

    def close(self) -> None:
        self.redis.close()


_ledgers: dict[str, Ledger] = {}


def read_ledger(stack_redis: redis.Redis) -> list[LedgerEntry]:
    """The ledger kept for the stack whose dialer Redis client is given."""
    kwargs = stack_redis.connection_pool.connection_kwargs
    url = f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/" \
          f"{kwargs.get('db', 0)}"
    if url not in _ledgers:
        _ledgers[url] = Ledger(url)
    return _ledgers[url].entries()


def max_overlap(entries: list[LedgerEntry], key: Any = None) -> int:
    """Most calls in progress at one instant (optionally per campaign)."""
    events: list[tuple[float, int]] = []
    for e in entries:
        if key is not None and key(e) is False:
            continue
        if e.end <= e.start:  # never held a line (the provider raised)
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


def _db_of(url: str) -> int:
    path = url.rsplit("/", 1)[-1] if url.count("/") >= 3 else ""
    return int(path) if path.isdigit() else 0


def with_db(url: str, db: int) -> str:
    """``url`` (a redis:// URL, with or without a db) pointing at database ``db``."""
    base = url.rsplit("/", 1)[0] if url.count("/") >= 3 else url.rstrip("/")
    return f"{base}/{db}"
