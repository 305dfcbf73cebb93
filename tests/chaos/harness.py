"""One shape of run for every chaos scenario.

Two campaigns in New York whose channels add up to more than the
organisation cap (so both caps bind), contacts with scripted outcomes that
retry, two workers and a beat on a clock 60x real time: a call lasts half a
real second, a retry waits one. Scenarios inject their fault into this run
and end with ``finish``: the campaigns completed and the shared invariants.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from dialer.client import DialerClient
from dialer.coordination import redis_keys
from tests.chaos.invariants import Planned, assert_invariants
from tests.support.recording import LedgerEntry
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec
from tests.support.stack import Stack, wait_for

TIME_SCALE = 60.0
ORG_CAP = 5
CHANNELS = (4, 3)
MAX_RETRIES = 2
MAX_ATTEMPTS = 1 + MAX_RETRIES
TERMINAL_OUTCOMES = ("answered", "voicemail")

# Each retries differently; together about two calls per contact.
MIXED_SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("answered",), ("no_answer", "answered"), ("busy", "busy", "busy"), ("voicemail",),
    ("failed", "answered"), ("no_answer", "no_answer", "answered"),
)


@dataclass(frozen=True)
class ContactPlan:
    """A contact's scripted outcomes, and what the recording provider does on each attempt."""

    script: tuple[str, ...]
    provider: str | tuple[str | None, ...] | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def behaviour(self, attempt: int) -> str | None:
        if isinstance(self.provider, tuple):
            return self.provider[min(attempt, len(self.provider)) - 1]
        return self.provider

    def expected_outcomes(self, max_attempts: int) -> list[str]:
        """The dialer's outcome per attempt when nothing goes wrong but the provider."""
        outcomes: list[str] = []
        for attempt in range(1, max_attempts + 1):
            behaviour = self.behaviour(attempt)
            # A refusal is not an attempt: the same attempt comes again, placed.
            outcome = ("failed" if behaviour in ("raise", "silent", "hang")
                       else self.script[min(attempt, len(self.script)) - 1])
            outcomes.append(outcome)
            if outcome in TERMINAL_OUTCOMES:
                break
        return outcomes


def mixed(count: int, **kwargs: Any) -> list[ContactPlan]:
    return [ContactPlan(MIXED_SCRIPTS[i % len(MIXED_SCRIPTS)], **kwargs) for i in range(count)]


def as_contacts(plans: list[ContactPlan], *, first: int, talk_s: float) -> list[dict[str, Any]]:
    contacts = []
    for index, plan in enumerate(plans, start=first):
        attributes: dict[str, Any] = {"sim_outcomes": list(plan.script), "sim_ring_s": 5,
                                      "sim_duration_s": talk_s, **dict(plan.extra)}
        if plan.provider is not None:
            attributes["test_provider"] = (list(plan.provider) if isinstance(plan.provider, tuple)
                                           else plan.provider)
        contacts.append({"phone": f"+1212555{index:04d}", "name": f"c{index}",
                         "attributes": attributes})
    return contacts


@dataclass
class Run:
    stack: Stack
    client: DialerClient
    planned: list[Planned]
    plans: dict[str, list[ContactPlan]]
    org_cap: int = ORG_CAP
    workers_started: list[Any] = field(default_factory=list)

    def ledger(self) -> list[LedgerEntry]:
        return self.stack.ledger.entries()

    def statuses(self) -> set[str]:
        return {self.client.get(p.campaign_id).campaign.status for p in self.planned}

    def completed(self) -> bool:
        return self.statuses() == {"completed"}

    def expected_outcomes(self) -> Counter[str]:
        """Outcome counts over all campaigns when only the provider misbehaves."""
        return Counter(outcome for plans in self.plans.values() for plan in plans
                       for outcome in plan.expected_outcomes(MAX_ATTEMPTS))

    def expected_statuses(self) -> Counter[str]:
        """Participants per final status when only the provider misbehaves."""
        return Counter("completed" if plan.expected_outcomes(MAX_ATTEMPTS)[-1]
                       in TERMINAL_OUTCOMES else "failed"
                       for plans in self.plans.values() for plan in plans)

    def statuses_by_count(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for plan in self.planned:
            total.update(self.client.get(plan.campaign_id).metrics.by_status)
        return total

    def outcomes(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for plan in self.planned:
            total.update(self.client.get(plan.campaign_id).metrics.outcomes)
        return total


def start_run(make_stack: Callable[..., Stack], campaigns: list[list[ContactPlan]], *,
              talk_s: float = 25, workers: int = 2, concurrency: int = 2, beats: int = 1,
              channels: tuple[int, ...] = CHANNELS, org_cap: int = ORG_CAP,
              spec: dict[str, Any] | None = None, **stack_kwargs: Any) -> Run:
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=TIME_SCALE, org_channel_cap=org_cap,
                       **stack_kwargs)
    started = [stack.start_worker(concurrency=concurrency) for _ in range(workers)]
    for _ in range(beats):
        stack.start_beat()
    client = stack.client()
    planned: list[Planned] = []
    plans: dict[str, list[ContactPlan]] = {}
    first = 0
    for index, contact_plans in enumerate(campaigns):
        audience = client.create_audience(f"chaos {index}", as_contacts(
            contact_plans, first=first, talk_s=talk_s))
        assert not audience.rejected, audience.rejected
        first += len(contact_plans)
        overrides: dict[str, Any] = {
            "name": f"chaos {index}", "pacing": {"channels": channels[index]},
            "retry": {"max_retries": MAX_RETRIES, "retry_delay_minutes": 1}, **(spec or {})}
        campaign = client.create_campaign(campaign_spec(audience.id, **overrides))
        planned.append(Planned(campaign.id, channels[index], MAX_ATTEMPTS, len(contact_plans)))
        plans[campaign.id] = contact_plans
    for plan in planned:
        client.start(plan.campaign_id)
    return Run(stack, client, planned, plans, org_cap, started)


def finish(run: Run, *, timeout_s: float) -> list[LedgerEntry]:
    """Wait for every campaign to complete, then check the shared invariants."""
    wait_for(run.completed, timeout_s=timeout_s, interval_s=0.25,
             what=f"every campaign completed (now {run.statuses()})")
    ledger = run.ledger()
    assert_invariants(ledger, run.client, run.planned, org_cap=run.org_cap)
    return ledger


def outcome_mismatches(run: Run, ledger: list[LedgerEntry]) -> list[tuple[str, str, str]]:
    """Calls whose outcome in PostgreSQL is not the one the provider reported."""
    kept = {c.call_id: c.outcome for p in run.planned for c in run.client.calls(p.campaign_id)}
    reported = {"raised": "failed", "silent": "failed", "hung": "failed"}
    return [(e.call_id, e.outcome, str(kept.get(e.call_id))) for e in ledger
            if kept.get(e.call_id) != reported.get(e.outcome, e.outcome)]


def leases_held(run: Run) -> int:
    """Channel leases in the dialer's Redis, every organisation's (expired ones included:
    nobody released them).

    Leases are the members with a positive score (their deadline); the set's
    generation stamp has a negative one (``dialer/coordination/lua/lease_generation.lua``).
    """
    client = redis.Redis.from_url(run.stack.env["DIALER_REDIS_URL"])
    return sum(int(client.zcount(key, "(0", "+inf"))
               for key in client.scan_iter(match=redis_keys.org_leases_pattern(), count=1000))


def worker_logs(run: Run) -> str:
    return "\n".join(path.read_text() for path in sorted(run.stack.logdir.glob("w*.log")))


def owner_of(run: Run, pid: int) -> Any:
    """The worker (process group leader) that a pool process belongs to, if alive."""
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return None
    return next((w for w in run.stack.workers if w.pid == group and w.poll() is None), None)
