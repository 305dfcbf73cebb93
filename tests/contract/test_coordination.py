"""One contract, two implementations: channel leases, the pacing limiter and the breaker
window answer the same in memory and on a real Redis.

Every test here runs against both (the Redis one on DIALER_TEST_REDIS_URL, emptied
first, marked ``integration``); what only Redis can show (Lua atomicity across
processes, key expiry, partial loss, generations) is in
tests/integration/test_redis_primitives.py and test_partial_redis_loss.py. The
last test drives both with the same random operations and compares every answer.
Time is simulated epoch seconds passed in; nothing here sleeps.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as strat

from dialer.coordination import ChannelLeases, LeaseResult, PacingDecision, WindowCounts
from tests.support.coordination import (
    DAY,
    Coordination,
    in_memory,
    max_in_any_window,
    on_redis,
    place,
)
from tests.support.leases import FAR_S, ORG, REDIS_URL, T0_S, take

Fresh = Callable[[], Coordination]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def fresh(request: pytest.FixtureRequest) -> Iterator[Fresh]:
    """Builds an empty store of the implementation under test (each call empties it again)."""
    if request.param == "memory":
        yield in_memory
        return
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield lambda: on_redis(client)
    finally:
        client.close()


@pytest.fixture
def store(fresh: Fresh) -> Coordination:
    """An empty store whose leases are ready (a fresh system with nothing in flight)."""
    coordination = fresh()
    coordination.leases.mark_ready()
    return coordination


# --- leases ---------------------------------------------------------------------------------

def test_lease_campaign_limit_is_respected(store: Coordination) -> None:
    leases = store.leases
    assert take(leases, "a", limit=2) == LeaseResult(acquired=True, reason=None)
    assert take(leases, "b", limit=2).acquired
    assert take(leases, "c", limit=2) == LeaseResult(acquired=False, reason="campaign_full")
    assert leases.in_use("c1", now_s=T0_S) == 2
    assert leases.org_in_use(ORG, now_s=T0_S) == 2
    assert sorted(leases.holders("c1", now_s=T0_S)) == ["a", "b"]


def test_lease_reacquire_is_idempotent_and_refreshes_expiry(store: Coordination) -> None:
    leases = store.leases
    assert take(leases, "a", limit=1, expires_at_s=T0_S + 100).acquired
    assert take(leases, "a", limit=1, expires_at_s=T0_S + 500).acquired
    assert leases.in_use("c1", now_s=T0_S) == 1
    assert leases.org_in_use(ORG, now_s=T0_S) == 1
    # The old deadline has passed but the refreshed one has not: still held.
    assert leases.holders("c1", now_s=T0_S + 200) == ["a"]
    assert take(leases, "b", limit=1, now_s=T0_S + 200).reason == "campaign_full"


def test_lease_stops_counting_at_its_deadline(store: Coordination) -> None:
    leases = store.leases
    assert take(leases, "dead", limit=1, org_limit=1, expires_at_s=T0_S + 100).acquired
    assert take(leases, "b", limit=1, org_limit=1, now_s=T0_S + 99.5).reason == "campaign_full"
    # At its deadline the lease no longer counts (a killed worker's channel comes back).
    assert leases.in_use("c1", now_s=T0_S + 100) == 0
    assert leases.org_in_use(ORG, now_s=T0_S + 100) == 0
    assert take(leases, "b", limit=1, org_limit=1, now_s=T0_S + 100).acquired
    assert leases.holders("c1", now_s=T0_S + 100) == ["b"]


def test_lease_holders_soonest_expiry_first(store: Coordination) -> None:
    for call_id, expires_at_s in (("late", T0_S + 300), ("soon", T0_S + 100),
                                  ("mid-b", T0_S + 200), ("mid-a", T0_S + 200)):
        assert take(store.leases, call_id, expires_at_s=expires_at_s, limit=5).acquired
    assert store.leases.holders("c1", now_s=T0_S) == ["soon", "mid-a", "mid-b", "late"]
    assert store.leases.holders("c1", now_s=T0_S + 150) == ["mid-a", "mid-b", "late"]
    assert store.leases.holders("other", now_s=T0_S) == []


def test_lease_release_frees_and_is_idempotent(store: Coordination) -> None:
    leases = store.leases
    assert take(leases, "a", limit=1).acquired
    leases.release("a", campaign_id="c1", org_id=ORG)
    leases.release("a", campaign_id="c1", org_id=ORG)
    leases.release("never-held", campaign_id="c1", org_id=ORG)
    assert leases.in_use("c1", now_s=T0_S) == 0
    assert leases.org_in_use(ORG, now_s=T0_S) == 0
    assert take(leases, "b", limit=1).acquired


def test_lease_org_cap_holds_across_campaigns(store: Coordination) -> None:
    leases = store.leases
    assert take(leases, "a1", "A", limit=2, org_limit=3).acquired
    assert take(leases, "a2", "A", limit=2, org_limit=3).acquired
    assert take(leases, "b1", "B", limit=2, org_limit=3).acquired
    assert take(leases, "b2", "B", limit=2, org_limit=3) == LeaseResult(False, "org_full")
    assert leases.org_in_use(ORG, now_s=T0_S) == 3
    assert leases.in_use("B", now_s=T0_S) == 1
    leases.release("a1", campaign_id="A", org_id=ORG)
    assert take(leases, "b2", "B", limit=2, org_limit=3).acquired
    assert leases.org_in_use(ORG, now_s=T0_S) == 3


def test_lease_limit_zero_acquires_nothing(store: Coordination) -> None:
    leases = store.leases
    assert take(leases, "a", limit=0) == LeaseResult(False, "campaign_full")
    assert take(leases, "a", limit=5, org_limit=0) == LeaseResult(False, "org_full")
    assert leases.org_in_use(ORG, now_s=T0_S) == 0


def test_lease_rejects_a_deadline_not_after_now(store: Coordination) -> None:
    with pytest.raises(ValueError, match="expires_at_s"):
        take(store.leases, "a", expires_at_s=T0_S)
    with pytest.raises(ValueError, match="now_s"):
        take(store.leases, "a", now_s=math.nan)
    assert store.leases.org_in_use(ORG, now_s=T0_S) == 0


def test_lease_not_ready_until_marked_or_rebuilt(fresh: Fresh) -> None:
    store = fresh()
    leases = store.leases
    assert not leases.is_ready()
    assert take(leases, "a") == LeaseResult(False, "not_ready")
    leases.mark_ready()
    leases.mark_ready()
    assert leases.is_ready()
    assert take(leases, "a").acquired
    leases.mark_ready()  # ready already: a no-op that keeps what is held
    assert leases.holders("c1", now_s=T0_S) == ["a"]

    store.wipe()
    assert not leases.is_ready()
    assert take(leases, "b") == LeaseResult(False, "not_ready")
    leases.release("a", campaign_id="c1", org_id=ORG)  # harmless while not ready
    leases.rebuild([], now_s=T0_S)
    assert leases.is_ready()
    assert take(leases, "b").acquired


def test_lease_rebuild_after_a_wipe_restores_counts_so_caps_hold(store: Coordination) -> None:
    leases = store.leases
    for call_id in ("a1", "a2", "a3"):
        assert take(leases, call_id, "A", limit=3, org_limit=4).acquired
    assert take(leases, "b1", "B", limit=3, org_limit=4).acquired
    store.wipe()  # coordination lost everything; PostgreSQL still knows what is in flight.

    campaign_b = uuid.uuid4()  # ids straight from the ORM may be UUIDs
    in_flight: list[tuple[Any, Any, Any, float]] = [
        ("a1", "A", ORG, FAR_S), ("a2", "A", ORG, FAR_S), ("a3", "A", ORG, FAR_S),
        ("b1", campaign_b, ORG, FAR_S), ("gone", "A", ORG, T0_S - 1)]  # the last one expired
    leases.rebuild(in_flight, now_s=T0_S)
    leases.rebuild(in_flight, now_s=T0_S)  # idempotent
    assert leases.is_ready()
    assert leases.in_use("A", now_s=T0_S) == 3
    assert leases.in_use(str(campaign_b), now_s=T0_S) == 1
    assert leases.org_in_use(ORG, now_s=T0_S) == 4
    assert "gone" not in leases.holders("A", now_s=T0_S)
    assert take(leases, "a4", "A", limit=3, org_limit=4).reason == "campaign_full"
    assert take(leases, "c1", "C", limit=3, org_limit=4).reason == "org_full"


def test_lease_rebuild_takes_postgresqls_picture_exactly(store: Coordination) -> None:
    # The rebuild replaces the sets (a stale copy must not survive it); PostgreSQL's
    # deadline is the lease's own, written by the dial before it acquires.
    leases = store.leases
    assert take(leases, "a", limit=1, expires_at_s=T0_S + 500).acquired
    assert take(leases, "ended", "c2", limit=1).acquired
    leases.rebuild([("a", "c1", ORG, T0_S + 100)], now_s=T0_S)
    assert leases.holders("c1", now_s=T0_S + 50) == ["a"]
    assert leases.holders("c1", now_s=T0_S + 200) == []
    assert leases.in_use("c2", now_s=T0_S) == 0
    assert leases.org_in_use(ORG, now_s=T0_S) == 1


def test_lease_rebuild_refuses_a_deadline_that_is_not_finite(store: Coordination) -> None:
    with pytest.raises(ValueError, match="expires_at_s"):
        store.leases.rebuild([("a", "c1", ORG, math.inf)], now_s=T0_S)


# --- organisations: each has its own channels -----------------------------------------------

# Two organisations: X dials campaigns A and B, Y dials C.
CAMPAIGN_ORG = {"A": "X", "B": "X", "C": "Y"}


def take_in(leases: ChannelLeases, call_id: str, campaign_id: str, *, org_limit: int = 1,
            limit: int = 5) -> LeaseResult:
    """``take`` in the campaign's own organisation (``CAMPAIGN_ORG``), one channel each."""
    return take(leases, call_id, campaign_id, org_id=CAMPAIGN_ORG[campaign_id], limit=limit,
                org_limit=org_limit)


def test_lease_a_full_organisation_does_not_block_another(store: Coordination) -> None:
    leases = store.leases
    assert take_in(leases, "a", "A").acquired
    assert take_in(leases, "b", "B") == LeaseResult(False, "org_full")  # X's one channel
    assert take_in(leases, "c", "C") == LeaseResult(True, None)  # Y has its own
    assert take_in(leases, "d", "C") == LeaseResult(False, "org_full")
    assert leases.org_in_use("X", now_s=T0_S) == 1
    assert leases.org_in_use("Y", now_s=T0_S) == 1
    assert leases.org_in_use("nobody", now_s=T0_S) == 0


def test_lease_release_frees_only_its_own_organisation(store: Coordination) -> None:
    leases = store.leases
    assert take_in(leases, "a", "A").acquired
    assert take_in(leases, "c", "C").acquired
    leases.release("a", campaign_id="A", org_id="X")
    leases.release("a", campaign_id="A", org_id="X")  # idempotent
    assert leases.org_in_use("X", now_s=T0_S) == 0
    assert leases.org_in_use("Y", now_s=T0_S) == 1
    assert take_in(leases, "d", "C").reason == "org_full"
    assert take_in(leases, "b", "B").acquired


def test_lease_rebuild_restores_each_organisations_count(store: Coordination) -> None:
    leases = store.leases
    for call_id, campaign_id in (("a", "A"), ("b", "B"), ("c", "C")):
        assert take_in(leases, call_id, campaign_id, org_limit=2).acquired
    store.wipe()
    in_flight = [("a", "A", "X", FAR_S), ("b", "B", "X", FAR_S), ("c", "C", "Y", FAR_S),
                 ("gone", "C", "Y", T0_S - 1)]  # the last one already expired
    leases.rebuild(in_flight, now_s=T0_S)
    leases.rebuild(in_flight, now_s=T0_S)  # idempotent
    assert leases.is_ready()
    assert leases.org_in_use("X", now_s=T0_S) == 2
    assert leases.org_in_use("Y", now_s=T0_S) == 1
    assert take_in(leases, "d", "A", org_limit=2).reason == "org_full"
    assert take_in(leases, "e", "C", org_limit=2).acquired
    assert take_in(leases, "f", "C", org_limit=2).reason == "org_full"

    # Every organisation's set is replaced: Y's calls ended, PostgreSQL lists only X's.
    leases.rebuild([("a", "A", "X", FAR_S)], now_s=T0_S)
    assert leases.org_in_use("X", now_s=T0_S) == 1
    assert leases.org_in_use("Y", now_s=T0_S) == 0


def test_lease_lost_organisation_set_answers_not_ready_until_rebuilt(
        store: Coordination) -> None:
    leases = store.leases
    assert take_in(leases, "a", "A").acquired
    assert take_in(leases, "c", "C").acquired
    store.lose_org_set("X")  # evicted alone: the marker and every other set survive
    assert not leases.is_ready()
    # An empty set would let X take a second channel past its cap of one.
    assert take_in(leases, "b", "B") == LeaseResult(False, "not_ready")
    assert take_in(leases, "d", "C", org_limit=2) == LeaseResult(False, "not_ready")
    leases.release("c", campaign_id="C", org_id="Y")  # harmless while not ready
    leases.rebuild([("a", "A", "X", FAR_S)], now_s=T0_S)  # PostgreSQL: c has ended
    assert leases.is_ready()
    assert take_in(leases, "b", "B").reason == "org_full"
    assert take_in(leases, "d", "C").acquired


def test_lease_an_organisation_with_nothing_held_has_no_set_to_lose(store: Coordination) -> None:
    leases = store.leases
    assert take_in(leases, "a", "A").acquired
    leases.release("a", campaign_id="A", org_id="X")
    store.lose_org_set("X")
    store.lose_org_set("Y")  # never dialed
    assert leases.is_ready()
    assert take_in(leases, "b", "B").acquired


lease_ops = strat.lists(
    strat.tuples(strat.sampled_from(["acquire", "acquire", "release"]),
                 strat.integers(min_value=0, max_value=7),  # call
                 strat.sampled_from(sorted(CAMPAIGN_ORG)),  # campaign
                 strat.sampled_from([0.0, 1.0, 5.0, 30.0]),  # time step
                 strat.sampled_from([10.0, 50.0, 200.0])),  # lease length
    min_size=1, max_size=40)
limit = strat.integers(min_value=0, max_value=4)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=lease_ops,
       campaign_limits=strat.fixed_dictionaries({c: limit for c in CAMPAIGN_ORG}),
       org_limits=strat.fixed_dictionaries({"X": limit, "Y": limit}))
def test_leases_never_exceed_a_limit_and_only_their_own_limits_refuse(
        fresh: Fresh, ops: list[tuple[str, int, str, float, float]],
        campaign_limits: dict[str, int], org_limits: dict[str, int]) -> None:
    """For any sequence of acquires and releases over two organisations and three
    campaigns, as time moves on: no campaign or organisation is ever over its limit,
    and an acquire is refused exactly when its own campaign or organisation is full."""
    store = fresh()
    leases = store.leases
    leases.mark_ready()
    now_s = T0_S
    campaign_of: dict[str, str] = {}  # a call belongs to one campaign, as in the dialer
    for op, number, campaign_id, step_s, length_s in ops:
        now_s += step_s
        call_id = f"call-{number}"
        campaign_id = campaign_of.setdefault(call_id, campaign_id)
        org_id = CAMPAIGN_ORG[campaign_id]
        if op == "release":
            leases.release(call_id, campaign_id=campaign_id, org_id=org_id)
        else:
            holds = call_id in leases.holders(campaign_id, now_s=now_s)
            campaign_full = leases.in_use(campaign_id, now_s=now_s) >= campaign_limits[campaign_id]
            org_full = leases.org_in_use(org_id, now_s=now_s) >= org_limits[org_id]
            result = leases.acquire(call_id, campaign_id=campaign_id, org_id=org_id,
                                    campaign_limit=campaign_limits[campaign_id],
                                    org_limit=org_limits[org_id],
                                    now_s=now_s, expires_at_s=now_s + length_s)
            if holds or not (campaign_full or org_full):
                assert result == LeaseResult(True, None)
            else:
                assert result == LeaseResult(
                    False, "campaign_full" if campaign_full else "org_full")
        for campaign, org in CAMPAIGN_ORG.items():
            assert leases.in_use(campaign, now_s=now_s) <= min(campaign_limits[campaign],
                                                               org_limits[org])
        for org, org_limit in org_limits.items():
            assert leases.org_in_use(org, now_s=now_s) <= org_limit
            assert leases.org_in_use(org, now_s=now_s) == sum(
                leases.in_use(c, now_s=now_s) for c, o in CAMPAIGN_ORG.items() if o == org)


# --- pacing limiter -------------------------------------------------------------------------

@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=strat.lists(strat.sampled_from([0.0, 0.1, 0.25, 1.0, 3.0, 7.3, 10.0, 29.5, 30.0,
                                             60.0, 61.0]), min_size=1, max_size=40),
       n=strat.integers(min_value=1, max_value=4),
       spacing_s=strat.sampled_from([0.0, 0.0, 0.3, 5.0, 12.5, 30.0]))
def test_limiter_matches_the_reference_model(fresh: Fresh, steps: list[float], n: int,
                                             spacing_s: float) -> None:
    """Every decision and retry_at_s equals a plain Python model of the rules."""
    limiter = fresh().limiter
    placed: list[float] = []

    def model_allows(now_s: float) -> bool:
        in_window = sum(1 for p in placed if p > now_s - 60.0)
        return in_window < n and (not placed or now_s >= placed[-1] + spacing_s)

    now_s = T0_S
    for i, step in enumerate(steps):
        now_s += step
        decision = place(limiter, f"call-{i}", now_s, cpm=n, spacing_s=spacing_s)
        assert decision.allowed == model_allows(now_s)
        if decision.allowed:
            placed.append(now_s)
            continue
        retry = decision.retry_at_s
        assert retry is not None and retry > now_s
        # Earliest: a retry then passes, a hair earlier it does not.
        assert model_allows(retry)
        assert not model_allows(math.nextafter(retry, -math.inf))
    assert max_in_any_window(placed) <= n


def test_limiter_spacing(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S, spacing_s=30.0).allowed
    early = place(limiter, "b", T0_S + 29.9, spacing_s=30.0)
    assert early == PacingDecision(allowed=False, reason="spacing", retry_at_s=T0_S + 30.0)
    assert place(limiter, "b", T0_S + 30.0, spacing_s=30.0).allowed
    assert limiter.usage("c1", now_s=T0_S + 30.0, day_key=DAY)["last_placement_s"] == T0_S + 30.0


def test_limiter_spacing_with_fractional_seconds_is_exact(store: Coordination) -> None:
    last = T0_S + 0.1
    assert place(store.limiter, "a", last, spacing_s=0.3).allowed
    denied = place(store.limiter, "b", last + 0.29, spacing_s=0.3)
    assert denied.retry_at_s is not None
    assert place(store.limiter, "b", denied.retry_at_s, spacing_s=0.3).allowed


def test_limiter_lagging_clock_does_not_move_last_placement_back(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S + 10.0).allowed
    assert place(limiter, "b", T0_S + 9.0).allowed  # another worker's clock is a second behind
    assert limiter.usage("c1", now_s=T0_S + 10, day_key=DAY)["last_placement_s"] == T0_S + 10.0
    assert place(limiter, "c", T0_S + 12.0, spacing_s=5.0).retry_at_s == T0_S + 15.0


def test_limiter_daily_limit_per_day_key_rolls_over(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S, daily=2).allowed
    assert place(limiter, "b", T0_S + 100, daily=2).allowed
    assert place(limiter, "c", T0_S + 200, daily=2) == PacingDecision(False, "daily_limit", None)
    assert place(limiter, "c", T0_S + 86_400, daily=2, day_key="2026-03-03").allowed
    assert limiter.usage("c1", now_s=T0_S, day_key=DAY)["today"] == 2
    assert limiter.usage("c1", now_s=T0_S + 86_400, day_key="2026-03-03")["today"] == 1
    assert place(limiter, "d", T0_S, daily=0, day_key="2026-03-04").reason == "daily_limit"


def test_limiter_daily_limit_wins_over_the_others(store: Coordination) -> None:
    assert place(store.limiter, "a", T0_S, cpm=1, spacing_s=60.0, daily=1).allowed
    # All three refuse; only the daily one says nothing helps today.
    assert place(store.limiter, "b", T0_S + 1, cpm=1, spacing_s=60.0, daily=1) == PacingDecision(
        False, "daily_limit", None)


def test_limiter_is_idempotent_per_call_id(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S, cpm=1, spacing_s=60.0, daily=1).allowed
    # A redelivered dial of the same call passes every limit without counting again.
    assert place(limiter, "a", T0_S + 1, cpm=1, spacing_s=60.0, daily=1).allowed
    usage = limiter.usage("c1", now_s=T0_S + 1, day_key=DAY)
    assert usage == {"last_minute": 1.0, "today": 1.0, "last_placement_s": T0_S}
    assert place(limiter, "b", T0_S + 1, cpm=5, daily=5).allowed


def test_limiter_retry_at_for_calls_per_minute(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S + 100, cpm=2).allowed
    assert place(limiter, "b", T0_S + 110, cpm=2).allowed
    denied = place(limiter, "c", T0_S + 120, cpm=2)
    assert denied == PacingDecision(False, "calls_per_minute", T0_S + 160)
    assert not place(limiter, "c", math.nextafter(T0_S + 160, 0.0), cpm=2).allowed
    assert place(limiter, "c", T0_S + 160, cpm=2).allowed
    assert place(limiter, "d", T0_S + 165, cpm=2).retry_at_s == T0_S + 170


def test_limiter_retry_at_is_the_later_of_two_refusals(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S, cpm=1, spacing_s=90.0).allowed
    assert place(limiter, "b", T0_S + 10, cpm=1, spacing_s=90.0) == PacingDecision(
        False, "spacing", T0_S + 90)
    assert place(limiter, "b", T0_S + 10, cpm=1, spacing_s=20.0) == PacingDecision(
        False, "calls_per_minute", T0_S + 60)


def test_limiter_zero_calls_per_minute_allows_nothing(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S, cpm=0) == PacingDecision(False, "calls_per_minute", None)
    assert limiter.usage("c1", now_s=T0_S, day_key=DAY)["last_minute"] == 0


def test_limiter_campaigns_are_independent(store: Coordination) -> None:
    limiter = store.limiter
    assert place(limiter, "a", T0_S, cpm=1, campaign_id="A").allowed
    assert place(limiter, "b", T0_S, cpm=1, campaign_id="B").allowed
    assert not place(limiter, "c", T0_S, cpm=1, campaign_id="A").allowed


def test_limiter_refuses_instants_that_are_not_finite(store: Coordination) -> None:
    with pytest.raises(ValueError, match="now_s"):
        place(store.limiter, "a", math.nan)
    with pytest.raises(ValueError, match="spacing_s"):
        place(store.limiter, "a", T0_S, spacing_s=math.inf)


def test_limiter_rebuild_after_a_wipe(store: Coordination) -> None:
    limiter = store.limiter
    for i, at in enumerate((T0_S + 100, T0_S + 110)):
        assert place(limiter, f"p{i}", at, cpm=2, daily=8).allowed
    store.wipe()
    assert limiter.usage("c1", now_s=T0_S + 120, day_key=DAY)["today"] == 0

    recent = [("p0", T0_S + 100), ("p1", T0_S + 110), ("old", T0_S - 1000)]
    limiter.rebuild("c1", recent, day_key=DAY, today_count=7, now_s=T0_S + 120)
    limiter.rebuild("c1", recent, day_key=DAY, today_count=7, now_s=T0_S + 120)  # idempotent
    assert limiter.usage("c1", now_s=T0_S + 120, day_key=DAY) == {
        "last_minute": 2.0, "today": 7.0, "last_placement_s": T0_S + 110}
    assert place(limiter, "x", T0_S + 120, cpm=2, daily=8) == PacingDecision(
        False, "calls_per_minute", T0_S + 160)
    assert place(limiter, "p1", T0_S + 120, cpm=2, daily=8).allowed  # still idempotent
    assert place(limiter, "old", T0_S + 120, cpm=3, daily=8).allowed  # past the log: new
    assert place(limiter, "x", T0_S + 180, cpm=2, daily=9).allowed
    assert place(limiter, "y", T0_S + 500, cpm=2, daily=9).reason == "daily_limit"

    # Only adds or raises: a stale, smaller picture from PostgreSQL never loosens pacing.
    limiter.rebuild("c1", [("p0", T0_S + 100)], day_key=DAY, today_count=3, now_s=T0_S + 181)
    usage = limiter.usage("c1", now_s=T0_S + 181, day_key=DAY)
    assert usage["today"] == 9
    assert usage["last_placement_s"] == T0_S + 180


def test_limiter_usage_of_an_unknown_campaign(store: Coordination) -> None:
    assert store.limiter.usage("nobody", now_s=T0_S, day_key=DAY) == {
        "last_minute": 0.0, "today": 0.0, "last_placement_s": 0.0}


# --- breaker window -------------------------------------------------------------------------

def test_breaker_counts_over_the_window(store: Coordination) -> None:
    breaker = store.breaker
    pattern = [True, False, True, True, False, False, False]
    seen: list[bool] = []
    for i, failed in enumerate(pattern):
        seen.append(failed)
        last = seen[-5:]
        assert breaker.record("c1", f"call-{i}", failed=failed, window=5) == WindowCounts(
            total=len(last), failures=sum(last))
    assert breaker.snapshot("c1", window=5) == WindowCounts(total=5, failures=2)
    assert breaker.snapshot("c1", window=3) == WindowCounts(total=3, failures=0)
    # Trimmed to the window it was recorded with: a larger one sees no more.
    assert breaker.snapshot("c1", window=50) == WindowCounts(total=5, failures=2)
    assert breaker.snapshot("other", window=5) == WindowCounts(total=0, failures=0)


def test_breaker_replayed_result_counts_once(store: Coordination) -> None:
    breaker = store.breaker
    assert breaker.record("c1", "a", failed=True, window=10) == WindowCounts(1, 1)
    assert breaker.record("c1", "a", failed=True, window=10) == WindowCounts(1, 1)
    assert breaker.record("c1", "a", failed=False, window=10) == WindowCounts(1, 1)
    assert breaker.record("c1", "b", failed=False, window=10) == WindowCounts(2, 1)


def test_breaker_reset(store: Coordination) -> None:
    breaker = store.breaker
    for i in range(4):
        breaker.record("c1", f"call-{i}", failed=True, window=10)
    breaker.record("c2", "x", failed=True, window=10)
    breaker.reset("c1")
    breaker.reset("c1")
    assert breaker.snapshot("c1", window=10) == WindowCounts(0, 0)
    assert breaker.snapshot("c2", window=10) == WindowCounts(1, 1)
    assert breaker.record("c1", "call-0", failed=False, window=10) == WindowCounts(1, 0)


def test_breaker_window_must_be_positive(store: Coordination) -> None:
    with pytest.raises(ValueError, match="window"):
        store.breaker.record("c1", "a", failed=True, window=0)
    with pytest.raises(ValueError, match="window"):
        store.breaker.snapshot("c1", window=0)


# --- the same answers, operation by operation -----------------------------------------------

operations = strat.lists(strat.one_of(
    strat.tuples(strat.just("acquire"), strat.integers(0, 6),
                 strat.sampled_from(sorted(CAMPAIGN_ORG)),
                 strat.sampled_from([0.0, 0.5, 20.0, 70.0]), strat.sampled_from([5.0, 60.0]),
                 strat.integers(0, 3), strat.integers(0, 4)),
    strat.tuples(strat.just("release"), strat.integers(0, 6),
                 strat.sampled_from(sorted(CAMPAIGN_ORG))),
    strat.tuples(strat.just("place"), strat.integers(0, 9), strat.sampled_from(["A", "B"]),
                 strat.sampled_from([0.0, 0.3, 10.0, 45.0, 700.0]),
                 strat.sampled_from([None, 0, 1, 3]), strat.sampled_from([0.0, 0.7, 15.0]),
                 strat.sampled_from([None, 2, 5]), strat.sampled_from([DAY, "2026-03-03"])),
    strat.tuples(strat.just("record"), strat.integers(0, 9), strat.sampled_from(["A", "B"]),
                 strat.booleans(), strat.integers(1, 4)),
    strat.tuples(strat.just("rebuild"), strat.sampled_from([0.0, 30.0])),
    strat.tuples(strat.just("wipe")),
    strat.tuples(strat.just("lose_org"), strat.sampled_from(["X", "Y"])),
), min_size=1, max_size=50)


@pytest.mark.integration
@settings(max_examples=80, deadline=None)
@given(ops=operations)
def test_memory_and_redis_answer_alike(ops: list[tuple[Any, ...]]) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        stores = (in_memory(), on_redis(client))
        for store in stores:
            store.leases.mark_ready()
        now_s = T0_S
        for op in ops:
            if op[0] in ("acquire", "place"):
                now_s += op[3]
            answers = [_apply(store, op, now_s) for store in stores]
            assert answers[0] == answers[1], op
            observed = [_observe(store, now_s) for store in stores]
            assert observed[0] == observed[1], op
    finally:
        client.close()


def _apply(store: Coordination, op: tuple[Any, ...], now_s: float) -> Any:
    kind = op[0]
    if kind == "acquire":
        _, number, campaign_id, _, length_s, campaign_limit, org_limit = op
        return store.leases.acquire(f"call-{number}{campaign_id}", campaign_id=campaign_id,
                                    org_id=CAMPAIGN_ORG[campaign_id],
                                    campaign_limit=campaign_limit, org_limit=org_limit,
                                    now_s=now_s, expires_at_s=now_s + length_s)
    if kind == "release":
        _, number, campaign_id = op
        return store.leases.release(f"call-{number}{campaign_id}", campaign_id=campaign_id,
                                    org_id=CAMPAIGN_ORG[campaign_id])
    if kind == "place":
        _, number, campaign_id, _, cpm, spacing_s, daily, day_key = op
        return place(store.limiter, f"p-{number}", now_s, cpm=cpm, spacing_s=spacing_s,
                     daily=daily, day_key=day_key, campaign_id=campaign_id)
    if kind == "record":
        _, number, campaign_id, failed, window = op
        return store.breaker.record(campaign_id, f"r-{number}", failed=failed, window=window)
    if kind == "rebuild":
        # What PostgreSQL would say: the calls still holding a channel, and the placements.
        held = [(call, campaign, org, now_s + 100.0) for campaign, org in CAMPAIGN_ORG.items()
                for call in store.leases.holders(campaign, now_s=now_s - op[1])]
        store.leases.rebuild(held, now_s=now_s)
        for campaign in ("A", "B"):
            store.limiter.rebuild(campaign, [("p-0", now_s - 10.0), ("p-1", now_s - 900.0)],
                                  day_key=DAY, today_count=1, now_s=now_s)
        return None
    if kind == "lose_org":
        store.lose_org_set(op[1])
        return None
    store.wipe()
    return None


def _observe(store: Coordination, now_s: float) -> Any:
    return (store.leases.is_ready(),
            [store.leases.org_in_use(org, now_s=now_s) for org in ("X", "Y")],
            [store.leases.holders(c, now_s=now_s) for c in sorted(CAMPAIGN_ORG)],
            [store.limiter.usage(c, now_s=now_s, day_key=d) for c in ("A", "B")
             for d in (DAY, "2026-03-03")],
            [store.breaker.snapshot(c, window=w) for c in ("A", "B") for w in (1, 4)])
