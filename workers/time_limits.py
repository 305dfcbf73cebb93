"""Celery time limits per task (real seconds), so no task can hold a pool process for ever.

The soft limit raises ``SoftTimeLimitExceeded`` inside the task; the hard
limit has the pool kill the process (prefork, the default pool: ``solo`` and
``threads`` cannot enforce them). Every use case is written so that an
interruption at any point leaves PostgreSQL consistent: its writes are
transactions that roll back, and what follows a commit (lease release,
sending tasks) is repaired by the sweep or expires with the call's deadline.

The dial's limits grow with ``DIALER_PROVIDER_TIMEOUT_S``: the dial stops
waiting for ``place_call`` at that timeout and then still writes down what
happened, so its soft limit leaves ``DIAL_OVERHEAD_S`` beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeLimits:
    soft_s: float
    hard_s: float


# The dial's own work around place_call: claim, lease, limiter, two commits.
DIAL_OVERHEAD_S = 15.0
# Between the soft limit and the kill: time to roll back and log.
HARD_AFTER_SOFT_S = 5.0

# A tick or sweep that runs this long is broken; the next one starts afresh.
TICK = TimeLimits(soft_s=30.0, hard_s=35.0)
SWEEP = TimeLimits(soft_s=30.0, hard_s=35.0)
# A result is one transaction plus Redis; a soft limit retries it (results.py is idempotent).
RESULT = TimeLimits(soft_s=30.0, hard_s=35.0)
COMMAND = TimeLimits(soft_s=30.0, hard_s=35.0)
# Creating a campaign with its inline contacts (bounded per message). The one
# task allowed past a Redis broker's visibility timeout: a copy delivered
# meanwhile finds the campaign's idempotency key taken (see redelivered_while_running).
ENQUEUE = TimeLimits(soft_s=300.0, hard_s=305.0)
# Any other task (none today): Celery's global default.
DEFAULT = TimeLimits(soft_s=300.0, hard_s=305.0)


def dial_limits(*, provider_timeout_s: float) -> TimeLimits:
    soft_s = provider_timeout_s + DIAL_OVERHEAD_S
    return TimeLimits(soft_s=soft_s, hard_s=soft_s + HARD_AFTER_SOFT_S)


def task_time_limits(*, provider_timeout_s: float) -> dict[str, TimeLimits]:
    return {
        "dialer.tick": TICK,
        "dialer.sweep": SWEEP,
        "dialer.dial": dial_limits(provider_timeout_s=provider_timeout_s),
        "dialer.call_result": RESULT,
        "dialer.campaign_command": COMMAND,
        "dialer.enqueue_campaign": ENQUEUE,
    }


# Tasks that may outlive the visibility timeout (their redelivered copy is a no-op).
MAY_OUTLIVE_VISIBILITY = ("dialer.enqueue_campaign",)


def redelivered_while_running(*, provider_timeout_s: float,
                              visibility_timeout_s: float) -> list[str]:
    """Tasks a Redis broker would deliver again while they may still be running.

    Kombu's Redis transport hands a reserved message to another worker once
    it has been unacknowledged for the visibility timeout, running or not.
    """
    return [name for name, limits in task_time_limits(
                provider_timeout_s=provider_timeout_s).items()
            if name not in MAY_OUTLIVE_VISIBILITY and limits.hard_s >= visibility_timeout_s]


def celery_annotations(*, provider_timeout_s: float) -> dict[str, dict[str, float]]:
    """``task_annotations``: Celery sets these on each task class at start-up."""
    return {name: {"soft_time_limit": limits.soft_s, "time_limit": limits.hard_s}
            for name, limits in task_time_limits(provider_timeout_s=provider_timeout_s).items()}
