"""The console's chart shaping: the heat shade of a value, the heatmap's rows, pages,
which links a call may show, durations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.api.console.charts import (
    duration,
    heat_bucket,
    heat_rows,
    page_count,
    web_link,
)
from dialer.views import HeatmapCell, HeatmapView

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
counts = st.integers(min_value=0, max_value=10_000)


@given(counts, counts)
def test_a_shade_is_0_for_nothing_and_1_to_9_for_anything(value, peak):
    peak = max(value, peak)
    shade = heat_bucket(value, peak)
    assert 0 <= shade <= 9
    assert (shade == 0) == (value == 0)


@given(counts)
def test_the_peak_is_the_darkest(peak):
    if peak > 0:
        assert heat_bucket(peak, peak) == 9


@given(counts, counts, counts)
def test_more_is_never_lighter(a, b, peak):
    low, high = sorted((a, b))
    peak = max(high, peak)
    assert heat_bucket(low, peak) <= heat_bucket(high, peak)


def test_no_peak_or_a_negative_value_is_unshaded():
    assert heat_bucket(5, 0) == 0
    assert heat_bucket(-1, 10) == 0
    assert heat_bucket(0.5, 1.0) == 5


def week(placed: dict[tuple[int, int], tuple[int, int]]) -> HeatmapView:
    cells = []
    for dow, day in enumerate(DAYS):
        for hour in range(24):
            n, answered = placed.get((dow, hour), (0, 0))
            cells.append(HeatmapCell(dow=dow, day=day, hour=hour, placed=n,
                                     answered=answered,
                                     answer_rate=round(answered / n, 4) if n else 0.0))
    # The view's order is the week's; the rows must not depend on it.
    cells.reverse()
    return HeatmapView(campaign_id="c", timezone="America/New_York",
                       placed=sum(n for n, _ in placed.values()),
                       answered=sum(a for _, a in placed.values()), cells=cells)


def test_the_week_is_seven_days_of_24_hours_monday_first():
    rows = heat_rows(week({(0, 10): (8, 2), (4, 17): (2, 2)}), "placed")
    assert [r.day for r in rows] == ["Monday", "Tuesday", "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"]
    assert all([c.hour for c in r.cells] == list(range(24)) for r in rows)
    monday_10 = rows[0].cells[10]
    assert (monday_10.text, monday_10.heat) == ("8", 9)
    assert (rows[4].cells[17].text, rows[4].cells[17].heat) == ("2", 3)
    assert (rows[1].cells[0].text, rows[1].cells[0].heat) == ("0", 0)


def test_the_answer_rate_reads_as_a_percentage_and_an_empty_hour_as_a_dash():
    rows = heat_rows(week({(0, 10): (8, 2), (4, 17): (2, 2), (5, 9): (3, 0)}),
                     "answer_rate")
    assert (rows[0].cells[10].text, rows[0].cells[10].heat) == ("25%", 3)
    assert (rows[4].cells[17].text, rows[4].cells[17].heat) == ("100%", 9)
    assert (rows[5].cells[9].text, rows[5].cells[9].heat) == ("0%", 0)
    assert (rows[1].cells[0].text, rows[1].cells[0].heat) == ("—", 0)


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=1, max_value=1000))
def test_pages_hold_every_row_and_no_empty_page_but_the_first(total, limit):
    pages = page_count(total, limit)
    assert pages >= 1
    assert (pages - 1) * limit < max(total, 1) <= pages * limit


def test_only_web_addresses_become_links():
    assert web_link("https://media.example/r/1.wav") == "https://media.example/r/1.wav"
    assert web_link("http://media.example/t.txt") == "http://media.example/t.txt"
    assert web_link("HTTPS://media.example/x") == "HTTPS://media.example/x"
    for bad in (None, "", "javascript:alert(1)", "data:text/html,hi", "ftp://x/y",
                "//media.example/x", "https:///nohost", " javascript:alert(1)"):
        assert web_link(bad) is None, bad


def test_durations_read_like_a_person_says_them():
    assert [duration(s) for s in (None, 0, 42.4, 65, 3599, 3600, 7475)] == [
        "—", "0 s", "42 s", "1 min 05 s", "59 min 59 s", "1 h 00 min", "2 h 04 min"]
