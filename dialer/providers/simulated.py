"""The built-in simulated provider.

Outcomes are scripted per contact (attribute ``sim_outcomes``: one outcome
per attempt) or drawn from configurable rates with a seed, deterministically
per (seed, call): every worker draws the same for the same attempt. Ring and
talk times are simulated seconds; the result comes back through the
``dialer.call_result`` task after that much simulated time, as a real
provider's webhook would. Like a real provider it reports what it has beside the
outcome: a (fake) recording and transcript link for answered calls and a cost per
started minute of talk (``DIALER_SIM_COST_PER_MINUTE``), so the demo shows them.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from redis import Redis

from dialer.clock import Clock
from dialer.coordination import redis_keys
from dialer.provider import NO_EXTRAS, CallRequest, ResultExtras
from dialer.statuses import OUTCOMES, Outcome

if TYPE_CHECKING:
    from dialer.service.runtime import Dispatcher, Runtime

POLL_BATCH = 1000
POLL_MAX_BATCHES = 20
# Where the fake recordings and transcripts "live" (.invalid never resolves: RFC 2606).
MEDIA_BASE_URL = "https://media.simulated.invalid"


@dataclass(frozen=True)
class SimulatedCall:
    outcome: str
    ring_s: float
    talk_s: float
    goal_achieved: bool | None

    @property
    def total_s(self) -> float:
        return self.ring_s + self.talk_s


class SimulatedProvider:
    def __init__(self, *, dispatcher: Dispatcher, clock: Clock, seed: int = 0,
                 outcome_rates: dict[str, float] | None = None,
                 ring_s: tuple[float, float] = (3.0, 20.0),
                 talk_s: tuple[float, float] = (20.0, 180.0), redis: Redis | None = None,
                 cost_per_minute: Decimal = Decimal("0")) -> None:
        self._dispatcher = dispatcher
        self._redis = redis
        self._clock = clock
        self._seed = seed
        rates = outcome_rates or {Outcome.ANSWERED: 1.0}
        unknown = set(rates) - set(OUTCOMES)
        if unknown:
            raise ValueError(f"sim_outcome_rates: unknown outcomes {sorted(unknown)}")
        self._outcomes = list(rates)
        self._weights = [float(rates[o]) for o in self._outcomes]
        self._ring_s = ring_s
        self._talk_s = talk_s
        self._cost_per_minute = cost_per_minute

    @classmethod
    def from_runtime(cls, rt: Runtime) -> SimulatedProvider:
        s = rt.settings
        return cls(dispatcher=rt.dispatcher, clock=rt.clock, seed=s.sim_seed,
                   outcome_rates=s.sim_outcome_rates, ring_s=s.sim_ring_s, talk_s=s.sim_talk_s,
                   redis=rt.redis, cost_per_minute=s.sim_cost_per_minute)

    def plan(self, request: CallRequest) -> SimulatedCall:
        """What this attempt will do; pure and deterministic."""
        rng = random.Random(_seed_for(self._seed, request.campaign_id, request.contact_id,
                                      request.attempt))
        outcome = _scripted(request.attributes, request.attempt) or rng.choices(
            self._outcomes, weights=self._weights)[0]
        ring_cap = float(request.ring_timeout_s)
        ring = min(ring_cap, rng.uniform(*self._ring_s))
        talk = 0.0
        if outcome == Outcome.ANSWERED:
            talk = min(float(request.max_duration_s), rng.uniform(*self._talk_s))
        elif outcome == Outcome.VOICEMAIL:
            talk = min(float(request.max_duration_s), rng.uniform(15.0, 40.0))
        elif outcome == Outcome.NO_ANSWER:
            ring = ring_cap
        elif outcome == Outcome.BUSY:
            ring = min(ring_cap, 2.0)
        elif outcome == Outcome.FAILED:
            ring = 0.5
        # Per-contact overrides make test scenarios exact.
        if "sim_ring_s" in request.attributes:
            ring = float(request.attributes["sim_ring_s"])
        if "sim_duration_s" in request.attributes:
            talk = float(request.attributes["sim_duration_s"])
        goal = request.attributes.get("sim_goal_achieved")
        goal_achieved = None if goal is None else _truthy(goal)
        return SimulatedCall(outcome, ring, talk, goal_achieved)

    def extras(self, request: CallRequest, call: SimulatedCall) -> ResultExtras:
        """What the simulated provider reports beside the outcome: links for an answered
        call, and the talk time's cost, per started minute (none when the rate is 0)."""
        links: dict[str, str] = {}
        if call.outcome == Outcome.ANSWERED:
            links = {"recording_url": f"{MEDIA_BASE_URL}/recordings/{request.call_id}.wav",
                     "transcript_url": f"{MEDIA_BASE_URL}/transcripts/{request.call_id}.txt"}
        cost = None
        if self._cost_per_minute > 0:
            cost = self._cost_per_minute * math.ceil(round(call.talk_s, 3) / 60)
        return ResultExtras(cost=cost, **links)

    def place_call(self, request: CallRequest) -> str:
        call = self.plan(request)
        duration_s = round(call.talk_s, 3)
        extras = self.extras(request, call)
        result = {"call_id": request.call_id, "outcome": call.outcome,
                  "duration_s": duration_s, "goal_achieved": call.goal_achieved,
                  "detail": "simulated", **extras.task_kwargs()}
        if self._redis is not None:
            due_s = self._clock.now().timestamp() + call.total_s
            self._redis.zadd(redis_keys.sim_outbox(), {json.dumps(result): due_s})
        self._dispatcher.send_result(
            request.call_id, outcome=call.outcome, duration_s=duration_s,
            goal_achieved=call.goal_achieved, detail="simulated",
            countdown_s=self._clock.real_seconds(call.total_s), extras=extras)
        return f"sim-{uuid.uuid4().hex[:12]}"

    def poll(self, *, now: datetime, open_calls: Callable[[list[str]], set[str]],
             overdue_real_s: float = 3.0) -> int:
        """Deliver results owed for calls that are still open well past their due time.

        The countdown task carrying a result lives in one worker's memory until
        it fires; if that worker is killed, the result would only come back
        after the broker's visibility timeout. Returns how many were re-sent.
        """
        if self._redis is None:
            return 0
        cutoff_s = now.timestamp() - overdue_real_s * self._clock.time_scale
        key = redis_keys.sim_outbox()
        resent = 0
        # Batches, so that a busy outbox (most entries were delivered by their
        # countdown and are only checked off here) drains within one sweep.
        for _ in range(POLL_MAX_BATCHES):
            raw = cast("list[bytes | str]", self._redis.zrangebyscore(
                key, "-inf", cutoff_s, start=0, num=POLL_BATCH))
            if not raw:
                break
            self._redis.zrem(key, *raw)
            owed = [json.loads(item) for item in raw]
            still_open = open_calls([r["call_id"] for r in owed])
            for result in owed:
                if result["call_id"] in still_open:
                    self._dispatcher.send_result(
                        result["call_id"], outcome=result["outcome"],
                        duration_s=result["duration_s"], goal_achieved=result["goal_achieved"],
                        detail="simulated (redelivered)", countdown_s=0.0,
                        extras=_extras_of(result))
                    resent += 1
        return resent


def _scripted(attributes: dict[str, Any], attempt: int) -> str | None:
    script = attributes.get("sim_outcomes")
    if isinstance(script, str):
        script = [s.strip() for s in script.replace(";", ",").split(",") if s.strip()]
    if not isinstance(script, list) or not script:
        return None
    outcome = str(script[min(attempt, len(script)) - 1])
    return outcome if outcome in OUTCOMES else Outcome.FAILED


def _seed_for(seed: int, campaign_id: str, contact_id: int, attempt: int) -> int:
    digest = hashlib.sha256(f"{seed}:{campaign_id}:{contact_id}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y"}
    return bool(value)


def _extras_of(result: dict[str, Any]) -> ResultExtras:
    """The extras of a result kept in the outbox (entries written before they existed
    have none)."""
    if not any(key in result for key in ("recording_url", "transcript_url", "cost")):
        return NO_EXTRAS
    cost = result.get("cost")
    return ResultExtras(recording_url=result.get("recording_url"),
                        transcript_url=result.get("transcript_url"),
                        cost=None if cost is None else Decimal(str(cost)))
