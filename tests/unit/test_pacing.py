"""Pacing arithmetic: budgets never exceed any cap; slots honour the gap."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.pacing import Usage, dispatch_budget, min_gap_s, next_free_slot_after, plan_slots
from dialer.spec import Pacing

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

pacings = hs.builds(
    Pacing,
    channels=hs.integers(0, 50),
    calls_per_minute=hs.one_of(hs.none(), hs.integers(1, 120)),
    spacing_seconds=hs.floats(0, 30),
    daily_limit=hs.one_of(hs.none(), hs.integers(1, 1000)),
)
usages = hs.builds(Usage, in_flight=hs.integers(0, 60), org_in_flight=hs.integers(0, 200),
                   placed_today=hs.integers(0, 1200))


@settings(max_examples=400, deadline=None)
@given(pacing=pacings, usage=usages, org_cap=hs.integers(0, 200))
def test_budget_never_exceeds_any_cap(pacing, usage, org_cap):
    budget = dispatch_budget(pacing=pacing, usage=usage, org_cap=org_cap)
    assert budget >= 0
    assert usage.in_flight + budget <= max(pacing.channels, usage.in_flight)
    assert usage.org_in_flight + budget <= max(org_cap, usage.org_in_flight)
    if pacing.daily_limit is not None:
        assert budget <= max(0, pacing.daily_limit - usage.placed_today)


def test_zero_channels_dials_nothing():
    usage = Usage(in_flight=0, org_in_flight=0, placed_today=0)
    assert dispatch_budget(pacing=Pacing(channels=0), usage=usage, org_cap=100) == 0


@settings(max_examples=400, deadline=None)
@given(pacing=pacings, budget=hs.integers(0, 60), horizon_s=hs.floats(0.1, 120),
       carry_s=hs.one_of(hs.none(), hs.floats(-30, 30)))
def test_slots_are_spaced_within_horizon_and_after_carry(pacing, budget, horizon_s, carry_s):
    carry = NOW + timedelta(seconds=carry_s) if carry_s is not None else None
    slots = plan_slots(pacing=pacing, budget=budget, now=NOW, next_free_slot=carry,
                       horizon_s=horizon_s)
    assert len(slots) <= budget
    gap = timedelta(seconds=min_gap_s(pacing))
    for earlier, later in itertools.pairwise(slots):
        assert later - earlier >= gap - timedelta(microseconds=1)
    for slot in slots:
        assert slot >= NOW
        if carry is not None:
            assert slot >= carry
        assert slot < NOW + timedelta(seconds=horizon_s) or slot == slots[0]
    if slots:
        nxt = next_free_slot_after(slots, pacing)
        assert nxt is not None and nxt - slots[-1] == gap


def test_calls_per_minute_spreads_evenly():
    pacing = Pacing(channels=100, calls_per_minute=30)
    slots = plan_slots(pacing=pacing, budget=30, now=NOW, next_free_slot=None, horizon_s=60)
    assert len(slots) == 30
    assert slots[1] - slots[0] == timedelta(seconds=2)


def test_no_gap_releases_the_whole_budget_now():
    slots = plan_slots(pacing=Pacing(channels=10), budget=10, now=NOW, next_free_slot=None,
                       horizon_s=1)
    assert slots == [NOW] * 10


@settings(max_examples=300, deadline=None)
@given(cpm=hs.integers(1, 120), spacing=hs.floats(0, 30), ticks=hs.integers(1, 40),
       tick_s=hs.floats(0.5, 90))
def test_slots_planned_tick_after_tick_never_exceed_calls_per_minute(cpm, spacing, ticks,
                                                                      tick_s):
    """However the ticks fall, no 60 seconds of planned slots hold more than the cap."""
    pacing = Pacing(channels=10_000, calls_per_minute=cpm, spacing_seconds=spacing)
    carry, planned = None, []
    for index in range(ticks):
        now = NOW + timedelta(seconds=index * tick_s)
        slots = plan_slots(pacing=pacing, budget=10_000, now=now, next_free_slot=carry,
                           horizon_s=tick_s)
        planned += slots
        carry = next_free_slot_after(slots, pacing) or carry
    stamps = [slot.timestamp() for slot in planned]
    for i, start in enumerate(stamps):
        assert sum(1 for t in stamps[i:] if t < start + 60 - 1e-6) <= cpm
