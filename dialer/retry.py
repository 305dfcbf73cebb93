"""What happens to a contact after a call's outcome (docs/contract.md §6, pure).

``next_eligible`` is the one answer to "when is this contact next eligible":
the policy's decision (retry delay, cooldowns, attempts left) moved to the
campaign calendar's next opening for the contact's zones. The result and the
sweep's deadline path (service/steps/settle.py) both ask it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.calendar import CallingRules
from dialer.spec import RetryPolicySpec
from dialer.statuses import Outcome, ParticipantStatus


@dataclass(frozen=True)
class RetryDecision:
    status: str  # completed | failed | retry_scheduled
    not_before: datetime | None  # earliest next attempt when retry_scheduled
    reason: str
    held_by: str | None = None  # which rule set not_before: retry_delay or a cooldown


def wants_retry(outcome: str, goal_achieved: bool | None, policy: RetryPolicySpec) -> bool:
    """Whether this outcome leaves the contact's goal unmet."""
    if outcome == Outcome.ANSWERED:
        return policy.goal_based and goal_achieved is False
    if outcome == Outcome.VOICEMAIL:
        return policy.retry_on_voicemail
    return True  # no_answer, busy, failed


def decide_after_outcome(
    *,
    outcome: str,
    goal_achieved: bool | None,
    attempts_made: int,
    policy: RetryPolicySpec,
    ended_at: datetime,
) -> RetryDecision:
    if not wants_retry(outcome, goal_achieved, policy):
        return RetryDecision(ParticipantStatus.COMPLETED, None, outcome)
    if attempts_made >= policy.max_attempts:
        return RetryDecision(ParticipantStatus.FAILED, None, f"attempts exhausted after {outcome}")
    not_before, held_by = earliest_retry(outcome=outcome, policy=policy, ended_at=ended_at)
    return RetryDecision(ParticipantStatus.RETRY_SCHEDULED, not_before, outcome, held_by)


def earliest_retry(*, outcome: str, policy: RetryPolicySpec,
                   ended_at: datetime) -> tuple[datetime, str]:
    """The later of the retry delay and every cooldown that applies, and which one it was.

    Cooldowns are measured from the end of the last attempt: the stricter
    reading of "never re-call within N hours of the last attempt".
    """
    candidates = [
        (ended_at + timedelta(minutes=policy.retry_delay_minutes), "retry_delay"),
        (ended_at + timedelta(hours=policy.cooldown_hours), "cooldown"),
    ]
    if outcome == Outcome.NO_ANSWER:
        candidates.append(
            (ended_at + timedelta(hours=policy.not_picked_cooldown_hours), "not_picked_cooldown"))
    # Ties go to the retry delay: a cooldown only "holds" a contact when it is longer.
    return max(candidates, key=lambda item: (item[0], item[1] == "retry_delay"))


@dataclass(frozen=True)
class NextAttempt:
    """The contact's next step after a call."""

    status: str  # completed | failed | retry_scheduled | skipped (the calendar never opens)
    at: datetime | None  # retry_scheduled: the instant the contact is next eligible
    skip_reason: str | None  # skipped: "calendar_closed"
    decision: RetryDecision  # the policy's own answer (``held_by``: a cooldown held it)


def next_eligible(
    *,
    outcome: str,
    goal_achieved: bool | None,
    attempts_made: int,
    policy: RetryPolicySpec,
    ended_at: datetime,
    rules: CallingRules,
    zones: Sequence[str],
    guard_zones: Sequence[str],
) -> NextAttempt:
    """When the contact may be called next: never before the retry delay and every
    cooldown, and then at the calendar's first opening for the contact."""
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal_achieved,
                                    attempts_made=attempts_made, policy=policy,
                                    ended_at=ended_at)
    if decision.status != ParticipantStatus.RETRY_SCHEDULED:
        return NextAttempt(decision.status, None, None, decision)
    assert decision.not_before is not None
    opening = rules.next_opening(decision.not_before, zones, guard_zones)
    if opening is None:
        return NextAttempt(ParticipantStatus.SKIPPED, None, "calendar_closed", decision)
    return NextAttempt(ParticipantStatus.RETRY_SCHEDULED, opening, None, decision)


def ends_contact(outcome: str, goal_achieved: bool | None, policy: RetryPolicySpec) -> bool:
    """Whether this outcome completes the contact whatever its attempts (it answered)."""
    return not wants_retry(outcome, goal_achieved, policy)
