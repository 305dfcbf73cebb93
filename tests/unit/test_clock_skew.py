"""The skew measured from a discarded tick, and the once-a-minute warning (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dialer.clock_skew import EveryInterval, tick_transit_s

BEAT_SENT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@given(skew_s=st.floats(min_value=-3600, max_value=3600),
       transit_s=st.floats(min_value=0, max_value=60),
       expires_after_s=st.floats(min_value=0.1, max_value=300))
def test_transit_is_real_transit_plus_the_workers_lead(skew_s: float, transit_s: float,
                                                       expires_after_s: float) -> None:
    expires = BEAT_SENT + timedelta(seconds=expires_after_s)  # by beat's clock
    # The worker's clock reads beat's time plus its skew.
    received_at = BEAT_SENT + timedelta(seconds=transit_s + skew_s)
    measured = tick_transit_s(expires=expires, expires_after_s=expires_after_s,
                              received_at=received_at)
    assert abs(measured - (transit_s + skew_s)) < 1e-3


def test_a_tick_is_discarded_exactly_when_the_transit_exceeds_its_lifetime() -> None:
    expires = BEAT_SENT + timedelta(seconds=0.9)
    assert tick_transit_s(expires=expires, expires_after_s=0.9,
                          received_at=expires + timedelta(seconds=30)) == 30.9
    assert tick_transit_s(expires=expires, expires_after_s=0.9, received_at=expires) == 0.9


def test_every_interval_says_yes_once_per_interval() -> None:
    gate = EveryInterval(60.0)
    assert [gate.due(t) for t in (0.0, 1.0, 59.9, 60.0, 61.0, 130.0)] == [
        True, False, False, True, False, True]
