"""Retry policy: no retry ever earlier than the delay or a cooldown allows, and
``next_eligible`` moves it to the calendar's first opening after them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.calendar import CallingRules
from dialer.pacing import call_deadline
from dialer.retry import decide_after_outcome, ends_contact, next_eligible
from dialer.spec import WEEKDAYS, CallHandling, CallWindow, RetryPolicySpec, Schedule
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


# -- next_eligible: the policy's decision, then the calendar's next opening ---------------

NY = "America/New_York"
windows = hs.tuples(hs.integers(0, 22), hs.integers(1, 23)).filter(lambda w: w[0] < w[1])
calendars = hs.builds(
    lambda window, days, guard, end_in_days: CallingRules(
        schedule=Schedule(call_window=CallWindow(start=f"{window[0]:02d}:00",
                                                 end=f"{window[1]:02d}:00"),
                          allowed_days=days,
                          end_date=None if end_in_days is None
                          else (ENDED + timedelta(days=end_in_days)).date()),
        campaign_timezone=NY, business_hours_guard=guard),
    window=windows, days=hs.lists(hs.sampled_from(WEEKDAYS), min_size=1, unique=True),
    guard=hs.booleans(), end_in_days=hs.one_of(hs.none(), hs.integers(0, 30)))
zone_sets = hs.sampled_from([(NY,), ("America/Los_Angeles",), (NY, "Europe/Paris"), ()])


def eligible(outcome, goal, attempts, policy, rules, zones):
    return next_eligible(outcome=outcome, goal_achieved=goal, attempts_made=attempts,
                         policy=policy, ended_at=ENDED, rules=rules, zones=zones,
                         guard_zones=zones)


@settings(max_examples=300, deadline=None)
@given(policy=policies, outcome=hs.sampled_from(OUTCOMES), attempts=hs.integers(1, 11),
       goal=hs.sampled_from([None, True, False]), rules=calendars, zones=zone_sets)
def test_next_eligible_is_the_first_opening_after_the_delay_and_cooldowns(
        policy, outcome, attempts, goal, rules, zones):
    step = eligible(outcome, goal, attempts, policy, rules, zones)
    decision = decide_after_outcome(outcome=outcome, goal_achieved=goal, attempts_made=attempts,
                                    policy=policy, ended_at=ENDED)
    assert step.decision == decision
    if decision.status != ParticipantStatus.RETRY_SCHEDULED:
        assert (step.status, step.at, step.skip_reason) == (decision.status, None, None)
        return
    assert decision.not_before is not None
    if step.status == ParticipantStatus.SKIPPED:
        # Only when the calendar never opens again (its end date has passed).
        assert step.at is None and step.skip_reason == "calendar_closed"
        assert rules.next_opening(decision.not_before, zones, zones) is None
        return
    assert step.status == ParticipantStatus.RETRY_SCHEDULED and step.skip_reason is None
    assert step.at is not None and step.at >= decision.not_before
    assert rules.is_open(step.at, zones, zones)
    # Nothing opens earlier: a microsecond before, it was closed (or not yet allowed).
    earlier = step.at - timedelta(microseconds=1)
    assert earlier < decision.not_before or not rules.is_open(earlier, zones, zones)


@settings(max_examples=200, deadline=None)
@given(policy=policies, outcome=hs.sampled_from(OUTCOMES), attempts=hs.integers(1, 11),
       goal=hs.sampled_from([None, True, False]))
def test_next_eligible_with_an_always_open_calendar_is_the_policy_s_instant(
        policy, outcome, attempts, goal):
    always = CallingRules(schedule=Schedule(call_window=CallWindow(start="00:00", end="23:59"),
                                            allowed_days=list(WEEKDAYS)),
                          campaign_timezone="UTC")
    step = eligible(outcome, goal, attempts, policy, always, ("UTC",))
    not_before = step.decision.not_before
    if not_before is not None and not_before.time() < time(23, 59):
        assert step.at == not_before


def test_ends_contact_is_the_policy_s_completion():
    for outcome in OUTCOMES:
        for goal in (None, True, False):
            for goal_based in (True, False):
                policy = RetryPolicySpec(goal_based=goal_based, retry_on_voicemail=True)
                ends = ends_contact(outcome, goal, policy)
                assert ends == (decide_after_outcome(
                    outcome=outcome, goal_achieved=goal, attempts_made=1, policy=policy,
                    ended_at=ENDED).status == ParticipantStatus.COMPLETED)


@given(ring_s=hs.integers(5, 120), talk_s=hs.integers(1, 1800), grace_s=hs.floats(0, 10_000))
def test_call_deadline_is_ring_plus_talk_plus_grace(ring_s, talk_s, grace_s):
    handling = CallHandling(ring_timeout_s=ring_s, max_duration_s=talk_s)
    assert call_deadline(handling, grace_s=grace_s) == timedelta(seconds=ring_s + talk_s + grace_s)
