"""The analytics' pure arithmetic: shares of a whole and the week's grid."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.analytics import DAY_NAMES, percent, rate, week_grid

counts = st.integers(min_value=0, max_value=10**9)


@given(whole=counts, data=st.data())
def test_a_share_of_a_whole_stays_within_it_and_rounds_to_its_digits(whole, data):
    part = data.draw(st.integers(min_value=0, max_value=whole))
    pct, share = percent(part, whole), rate(part, whole)
    assert 0.0 <= pct <= 100.0 and 0.0 <= share <= 1.0
    assert pct == round(pct, 1) and share == round(share, 4)
    if whole:
        assert abs(pct - 100.0 * part / whole) <= 0.05 + 1e-9
        assert abs(share - part / whole) <= 0.00005 + 1e-12


@given(part=counts)
def test_nothing_to_divide_by_is_zero_not_an_error(part):
    assert percent(part, 0) == 0.0 and rate(part, 0) == 0.0


@given(whole=st.integers(min_value=1, max_value=10**6), data=st.data())
def test_a_larger_part_never_shows_a_smaller_share(whole, data):
    a = data.draw(st.integers(min_value=0, max_value=whole))
    b = data.draw(st.integers(min_value=a, max_value=whole))
    assert percent(a, whole) <= percent(b, whole) and rate(a, whole) <= rate(b, whole)


@given(st.dictionaries(st.tuples(st.integers(0, 6), st.integers(0, 23)),
                       st.tuples(counts, counts)))
def test_the_week_grid_has_every_hour_once_in_order_and_keeps_the_counts(sparse):
    grid = list(week_grid(sparse))
    assert [(dow, hour) for dow, hour, _, _ in grid] == [
        (dow, hour) for dow in range(7) for hour in range(24)]
    assert {(dow, hour): (p, a) for dow, hour, p, a in grid if (dow, hour) in sparse} == sparse
    assert all((p, a) == (0, 0) for dow, hour, p, a in grid if (dow, hour) not in sparse)


def test_days_are_named_as_the_spec_names_them_monday_first():
    assert DAY_NAMES == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
