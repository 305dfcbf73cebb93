"""The invariant helpers themselves: each catches what it names, and no more (no I/O)."""

from __future__ import annotations

import pytest

from tests.support.recording import LedgerEntry, max_overlap
from tests.support.scenario import assert_ledger_sane


def call(call_id: str, contact: int, attempt: int, start: float, end: float,
         outcome: str = "no_answer", campaign: str = "c1") -> LedgerEntry:
    return LedgerEntry(call_id=call_id, campaign_id=campaign, contact_id=contact,
                       attempt=attempt, to="+12125550000", from_number=None, outcome=outcome,
                       start=start, end=end, pid=1, sim_start="2026-03-02T14:00:00+00:00")


def test_a_sane_ledger_passes():
    assert_ledger_sane([call("a", 1, 1, 0, 1), call("b", 1, 2, 1, 2, "answered"),
                        call("c", 2, 1, 0, 3)], max_attempts=2)


@pytest.mark.parametrize(("ledger", "message"), [
    ([call("a", 1, 1, 0, 1), call("a", 2, 1, 2, 3)], "placed twice"),
    ([call("a", 1, 1, 0, 1), call("b", 1, 2, 2, 3), call("c", 1, 3, 4, 5)], "beyond"),
    ([call("a", 1, 1, 0, 1), call("b", 1, 1, 2, 3)], "attempts"),
    ([call("a", 1, 2, 0, 1), call("b", 1, 1, 2, 3)], "attempts"),
    ([call("a", 1, 1, 0, 1, "answered"), call("b", 1, 2, 2, 3)], "after it answered"),
    ([call("a", 1, 1, 0, 2), call("b", 1, 2, 1, 3)], "two calls at once"),
])
def test_each_broken_guarantee_is_caught(ledger, message):
    with pytest.raises(AssertionError, match=message):
        assert_ledger_sane(ledger, max_attempts=2)


def test_overlap_is_exact_at_the_edges():
    back_to_back = [call("a", 1, 1, 0, 1), call("b", 2, 1, 1, 2), call("c", 3, 1, 2, 3)]
    assert max_overlap(back_to_back) == 1
    assert max_overlap([*back_to_back, call("d", 4, 1, 0.5, 1.5)]) == 2
    # A call the provider refused held no line.
    assert max_overlap([*back_to_back, call("e", 5, 1, 0.5, 0.5, "raised")]) == 1
    two_campaigns = [call("a", 1, 1, 0, 2), call("b", 2, 1, 1, 3, campaign="c2")]
    assert max_overlap(two_campaigns) == 2
    assert max_overlap(two_campaigns, key=lambda e: e.campaign_id == "c1") == 1
