"""Circuit-breaker policy (pure): when the failed share of recent calls trips it."""

from __future__ import annotations

from dialer.spec import CircuitBreakerSpec
from dialer.statuses import Outcome


def counts_as_failure(outcome: str) -> bool:
    # Busy, no-answer and voicemail are the normal life of outbound calling;
    # only calls the system could not carry through say something is broken.
    return outcome == Outcome.FAILED


def should_trip(*, total: int, failures: int, spec: CircuitBreakerSpec) -> bool:
    if not spec.enabled or total < spec.min_calls or total == 0:
        return False
    return failures / total >= spec.failure_rate
