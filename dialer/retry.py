"""What happens to a contact after a call's outcome (docs/contract.md §6, pure).

``next_eligible`` is the one answer to "when is this contact next eligible":
the policy's decision (retry delay, cooldowns, attempts left) moved to the
campaign calendar's next opening for the contact's zones. The result and the
sweep's deadline path (service/steps/settle.py) both ask it.

A contact may have secondary numbers (docs/spec.md, "Secondary numbers"):
``after_call_on_number`` says what comes after a call on the number being
dialed (another attempt on it, the next number, or the end), and
``after_unusable_number`` what comes after a number that may not be dialed at
all (on the do-not-call list). Numbers are dialed in order, each with the
policy's attempts; an answer ends them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    return _on_calendar(decision, rules, zones, guard_zones)


def _on_calendar(decision: RetryDecision, rules: CallingRules, zones: Sequence[str],
                 guard_zones: Sequence[str]) -> NextAttempt:
    """The decision moved to the calendar's first opening after its ``not_before``."""
    if decision.status != ParticipantStatus.RETRY_SCHEDULED:
        return NextAttempt(decision.status, None, None, decision)
    assert decision.not_before is not None
    opening = rules.next_opening(decision.not_before, zones, guard_zones)
    if opening is None:
        return NextAttempt(ParticipantStatus.SKIPPED, None, "calendar_closed", decision)
    return NextAttempt(ParticipantStatus.RETRY_SCHEDULED, opening, None, decision)


@dataclass(frozen=True)
class NumberStep:
    """After a call on the contact's number ``phone_index`` (0 the primary, k the k-th
    secondary): the policy's decision and the number the next attempt goes to."""

    decision: RetryDecision
    phone_index: int  # the number dialed next: unchanged unless ``moved_on``
    moved_on: bool


def after_call_on_number(
    *,
    outcome: str,
    goal_achieved: bool | None,
    phone_index: int,
    phone_attempts: int,
    numbers: int,
    policy: RetryPolicySpec,
    ended_at: datetime,
    answered_before: bool = False,
) -> NumberStep:
    """What comes after this outcome on this number.

    ``phone_attempts`` are the attempts made on the current number in this cycle
    (this call included), ``numbers`` how many the contact has (1 + secondaries),
    ``answered_before`` whether an earlier call of this cycle was answered.
    The policy decides as for a single number; when it gives the number up
    and no call of the cycle was answered and another number is left, the contact
    moves to that one, with its own attempts, no sooner than the retry delay and
    cooldowns allow (they protect the person, whichever number rings). An answer
    never moves on: it completes the contact, or (goal-based, goal not met) the
    contact is retried on the number that answered until its attempts run out.
    """
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal_achieved,
                                    attempts_made=phone_attempts, policy=policy,
                                    ended_at=ended_at)
    answered = answered_before or outcome == Outcome.ANSWERED
    if decision.status == ParticipantStatus.FAILED and not answered and phone_index + 1 < numbers:
        not_before, held_by = earliest_retry(outcome=outcome, policy=policy, ended_at=ended_at)
        moved = RetryDecision(ParticipantStatus.RETRY_SCHEDULED, not_before,
                              f"attempts on number {phone_index} exhausted after {outcome}",
                              held_by)
        return NumberStep(moved, phone_index + 1, True)
    return NumberStep(decision, phone_index, False)


def after_unusable_number(*, phone_index: int, numbers: int) -> int | None:
    """The number to dial instead of ``phone_index``, which may not be dialed (DNC):
    the next one, without an attempt on this one; None when it was the last."""
    return phone_index + 1 if phone_index + 1 < numbers else None


ZonesOf = Callable[[int], tuple[Sequence[str], Sequence[str]]]


def next_step(
    *,
    outcome: str,
    goal_achieved: bool | None,
    phone_index: int,
    phone_attempts: int,
    numbers: int,
    policy: RetryPolicySpec,
    ended_at: datetime,
    rules: CallingRules,
    zones_of: ZonesOf,
    answered_before: bool = False,
) -> tuple[NextAttempt, NumberStep]:
    """``next_eligible`` across the contact's numbers: the calendar is read in the zones
    of the number dialed next (``zones_of(index)``: calling-window and guard zones)."""
    step = after_call_on_number(outcome=outcome, goal_achieved=goal_achieved,
                                phone_index=phone_index, phone_attempts=phone_attempts,
                                numbers=numbers, policy=policy, ended_at=ended_at,
                                answered_before=answered_before)
    return _on_calendar(step.decision, rules, *zones_of(step.phone_index)), step


def ends_contact(outcome: str, goal_achieved: bool | None, policy: RetryPolicySpec) -> bool:
    """Whether this outcome completes the contact whatever its attempts (it answered)."""
    return not wants_retry(outcome, goal_achieved, policy)
