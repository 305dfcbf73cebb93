"""Secondary numbers (dialer/retry.py): dialed in order, each with the policy's attempts,
an answer ends them all, a number that may not be dialed is passed over without an attempt.

The contact's whole life is played against the pure rules: outcomes drawn by hypothesis,
some numbers on the do-not-call list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.calendar import CallingRules
from dialer.retry import (
    after_call_on_number,
    after_unusable_number,
    decide_after_outcome,
    next_step,
)
from dialer.spec import CallWindow, RetryPolicySpec, Schedule
from dialer.statuses import OUTCOMES, Outcome, ParticipantStatus

ENDED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

policies = hs.builds(
    RetryPolicySpec,
    max_retries=hs.integers(0, 4),
    retry_delay_minutes=hs.floats(1, 120),
    cooldown_hours=hs.floats(0, 5),
    not_picked_cooldown_hours=hs.floats(0, 5),
    retry_on_voicemail=hs.booleans(),
    goal_based=hs.booleans(),
)


@dataclass
class Life:
    """One contact played to its end: which number each attempt went to, and how it ended."""

    dialed: list[tuple[int, str, bool | None]] = field(default_factory=list)
    passed_over: list[int] = field(default_factory=list)
    moves: list[tuple[int, int]] = field(default_factory=list)  # (from, to) after a call
    end: str = ""


def live(data, policy: RetryPolicySpec, numbers: int, dnc: set[int]) -> Life:
    life, index, on_number, answered = Life(), 0, 0, False
    for _ in range(200):  # far more than numbers x attempts: the loop must end by itself
        if index in dnc:
            life.passed_over.append(index)
            following = after_unusable_number(phone_index=index, numbers=numbers)
            if following is None:
                life.end = ParticipantStatus.SKIPPED_DNC
                return life
            index, on_number = following, 0
            continue
        outcome = data.draw(hs.sampled_from(OUTCOMES))
        goal = data.draw(hs.sampled_from([None, True, False]))
        on_number += 1
        life.dialed.append((index, outcome, goal))
        step = after_call_on_number(outcome=outcome, goal_achieved=goal, phone_index=index,
                                    phone_attempts=on_number, numbers=numbers, policy=policy,
                                    ended_at=ENDED, answered_before=answered)
        answered = answered or outcome == Outcome.ANSWERED
        if step.decision.status != ParticipantStatus.RETRY_SCHEDULED:
            life.end = step.decision.status
            return life
        assert step.phone_index in (index, index + 1)
        if step.moved_on:
            life.moves.append((index, step.phone_index))
            index, on_number = step.phone_index, 0
    raise AssertionError("the contact never ended")


@settings(max_examples=400, deadline=None)
@given(data=hs.data(), policy=policies, numbers=hs.integers(1, 4),
       dnc=hs.sets(hs.integers(0, 3), max_size=3))
def test_numbers_in_order_each_within_its_attempts(data, policy, numbers, dnc):
    dnc = {i for i in dnc if i < numbers}
    life = live(data, policy, numbers, dnc)
    indexes = [index for index, _, _ in life.dialed]
    # In order, never back to an earlier number, never a number that may not be dialed.
    assert indexes == sorted(indexes)
    assert not set(indexes) & dnc
    assert life.passed_over == sorted(life.passed_over)
    for index in set(indexes):
        assert indexes.count(index) <= policy.max_attempts
    # A move to the next number only once the number's attempts are all used.
    for before, after in life.moves:
        assert after == before + 1
        assert indexes.count(before) == policy.max_attempts


@settings(max_examples=400, deadline=None)
@given(data=hs.data(), policy=policies, numbers=hs.integers(1, 4),
       dnc=hs.sets(hs.integers(0, 3), max_size=3))
def test_an_answer_stops_the_other_numbers(data, policy, numbers, dnc):
    dnc = {i for i in dnc if i < numbers}
    life = live(data, policy, numbers, dnc)
    answered = [i for i, (_, outcome, _) in enumerate(life.dialed)
                if outcome == Outcome.ANSWERED]
    if answered:
        first = answered[0]
        # Nothing after an answer goes to another number.
        assert {index for index, _, _ in life.dialed[first:]} == {life.dialed[first][0]}
    if life.end == ParticipantStatus.COMPLETED:
        _index, outcome, _goal = life.dialed[-1]
        assert outcome in (Outcome.ANSWERED, Outcome.VOICEMAIL)


@settings(max_examples=400, deadline=None)
@given(data=hs.data(), policy=policies, numbers=hs.integers(1, 4),
       dnc=hs.sets(hs.integers(0, 3), max_size=3))
def test_every_usable_number_is_tried_before_the_contact_fails(data, policy, numbers, dnc):
    dnc = {i for i in dnc if i < numbers}
    life = live(data, policy, numbers, dnc)
    if life.end != ParticipantStatus.FAILED:
        return
    indexes = [index for index, _, _ in life.dialed]
    if not any(outcome == Outcome.ANSWERED for _, outcome, _ in life.dialed):
        # Without an answer, every number not on the list got all its attempts.
        for index in set(range(numbers)) - dnc:
            assert indexes.count(index) == policy.max_attempts


def test_a_single_number_decides_as_before():
    policy = RetryPolicySpec(max_retries=1)
    for outcome in OUTCOMES:
        for attempts in (1, 2):
            step = after_call_on_number(outcome=outcome, goal_achieved=None, phone_index=0,
                                        phone_attempts=attempts, numbers=1, policy=policy,
                                        ended_at=ENDED)
            assert step.decision == decide_after_outcome(
                outcome=outcome, goal_achieved=None, attempts_made=attempts, policy=policy,
                ended_at=ENDED)
            assert (step.phone_index, step.moved_on) == (0, False)


def test_the_next_number_waits_for_the_delay_and_the_cooldowns():
    policy = RetryPolicySpec(max_retries=0, retry_delay_minutes=10,
                             not_picked_cooldown_hours=2)
    busy = after_call_on_number(outcome=Outcome.BUSY, goal_achieved=None, phone_index=0,
                                phone_attempts=1, numbers=2, policy=policy, ended_at=ENDED)
    assert busy.moved_on and busy.phone_index == 1
    assert busy.decision.not_before == ENDED + timedelta(minutes=10)
    no_answer = after_call_on_number(outcome=Outcome.NO_ANSWER, goal_achieved=None,
                                     phone_index=0, phone_attempts=1, numbers=2,
                                     policy=policy, ended_at=ENDED)
    assert no_answer.decision.not_before == ENDED + timedelta(hours=2)
    assert no_answer.decision.held_by == "not_picked_cooldown"


def test_goal_based_answer_without_goal_stays_on_the_number_that_answered():
    policy = RetryPolicySpec(max_retries=1, goal_based=True)
    step = after_call_on_number(outcome=Outcome.ANSWERED, goal_achieved=False, phone_index=0,
                                phone_attempts=2, numbers=3, policy=policy, ended_at=ENDED)
    assert step.decision.status == ParticipantStatus.FAILED and not step.moved_on


def test_the_calendar_is_read_in_the_zones_of_the_number_dialed_next():
    # 09:00-18:00 local; the call ends 15:00 UTC (10:00 in New York, 07:00 in Los Angeles).
    rules = CallingRules(schedule=Schedule(call_window=CallWindow(start="09:00", end="18:00")),
                         campaign_timezone="America/New_York")
    zones = {0: (("America/New_York",), ()), 1: (("America/Los_Angeles",), ())}
    attempt, step = next_step(outcome=Outcome.NO_ANSWER, goal_achieved=None, phone_index=0,
                              phone_attempts=1, numbers=2,
                              policy=RetryPolicySpec(max_retries=0, retry_delay_minutes=1),
                              ended_at=ENDED, rules=rules, zones_of=lambda i: zones[i])
    assert step.moved_on and step.phone_index == 1
    assert attempt.status == ParticipantStatus.RETRY_SCHEDULED
    assert attempt.at == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles


def test_a_number_on_the_list_passes_to_the_next_or_ends():
    assert after_unusable_number(phone_index=0, numbers=3) == 1
    assert after_unusable_number(phone_index=2, numbers=3) is None
    assert after_unusable_number(phone_index=0, numbers=1) is None
