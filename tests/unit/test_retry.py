"""Retry policy: no retry ever earlier than the delay or a cooldown allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.retry import decide_after_outcome
from dialer.spec import RetryPolicySpec
from dialer.statuses import OUTCOMES, Outcome, ParticipantStatus

ENDED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

policies = hs.builds(
    RetryPolicySpec,
    max_retries=hs.integers(0, 10),
    retry_delay_minutes=hs.floats(1, 1440),
    cooldown_hours=hs.floats(0, 72),
    not_picked_cooldown_hours=hs.floats(0, 72),
    retry_on_voicemail=hs.booleans(),
    goal_based=hs.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(policy=policies, outcome=hs.sampled_from(OUTCOMES), attempts=hs.integers(1, 11),
       goal=hs.sampled_from([None, True, False]))
def test_retry_never_earlier_than_delay_or_cooldowns(policy, outcome, attempts, goal):
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal, attempts_made=attempts,
                                    policy=policy, ended_at=ENDED)
    if decision.status != ParticipantStatus.RETRY_SCHEDULED:
        assert decision.not_before is None
        return
    assert attempts < policy.max_attempts
    gap = decision.not_before - ENDED
    assert gap >= timedelta(minutes=policy.retry_delay_minutes)
    assert gap >= timedelta(hours=policy.cooldown_hours)
    if outcome == Outcome.NO_ANSWER:
        assert gap >= timedelta(hours=policy.not_picked_cooldown_hours)
    # And no later than the strictest of them requires.
    required = [timedelta(minutes=policy.retry_delay_minutes),
                timedelta(hours=policy.cooldown_hours)]
    if outcome == Outcome.NO_ANSWER:
        required.append(timedelta(hours=policy.not_picked_cooldown_hours))
    assert gap == max(required)


@settings(max_examples=300, deadline=None)
@given(policy=policies, outcome=hs.sampled_from(OUTCOMES), attempts=hs.integers(1, 11),
       goal=hs.sampled_from([None, True, False]))
def test_attempts_never_exceed_one_plus_max_retries(policy, outcome, attempts, goal):
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal, attempts_made=attempts,
                                    policy=policy, ended_at=ENDED)
    if attempts >= policy.max_attempts:
        assert decision.status in (ParticipantStatus.COMPLETED, ParticipantStatus.FAILED)


def decide(outcome, goal=None, attempts=1, **policy):
    return decide_after_outcome(outcome=outcome, goal_achieved=goal, attempts_made=attempts,
                                policy=RetryPolicySpec(**policy), ended_at=ENDED)


def test_answered_completes():
    assert decide(Outcome.ANSWERED).status == ParticipantStatus.COMPLETED


def test_goal_based_answered_without_goal_retries():
    assert decide(Outcome.ANSWERED, goal=False, goal_based=True).status == \
        ParticipantStatus.RETRY_SCHEDULED
    assert decide(Outcome.ANSWERED, goal=True, goal_based=True).status == \
        ParticipantStatus.COMPLETED
    # Without goal_based, an answered call completes whatever the goal says.
    assert decide(Outcome.ANSWERED, goal=False).status == ParticipantStatus.COMPLETED


def test_voicemail_completes_unless_retry_on_voicemail():
    assert decide(Outcome.VOICEMAIL).status == ParticipantStatus.COMPLETED
    assert decide(Outcome.VOICEMAIL, retry_on_voicemail=True).status == \
        ParticipantStatus.RETRY_SCHEDULED


def test_failures_retry_then_fail_when_exhausted():
    for outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED):
        assert decide(outcome, attempts=1, max_retries=1).status == \
            ParticipantStatus.RETRY_SCHEDULED
        assert decide(outcome, attempts=2, max_retries=1).status == ParticipantStatus.FAILED
    assert decide(Outcome.BUSY, attempts=1, max_retries=0).status == ParticipantStatus.FAILED


def test_not_picked_cooldown_applies_to_no_answer_only():
    no_answer = decide(Outcome.NO_ANSWER, not_picked_cooldown_hours=4)
    busy = decide(Outcome.BUSY, not_picked_cooldown_hours=4)
    assert no_answer.not_before == ENDED + timedelta(hours=4)
    assert busy.not_before == ENDED + timedelta(minutes=15)
