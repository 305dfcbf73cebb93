"""Two beats for the whole run: every tick twice, and still each call exactly once."""

from __future__ import annotations

import pytest

from tests.chaos.harness import ORG_CAP, finish, leases_held, mixed, start_run
from tests.support.recording import max_overlap
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos


def test_two_beats_for_the_whole_run_dial_exactly_the_script(make_stack):
    run = start_run(make_stack, [mixed(30), mixed(30)], beats=2)

    ledger = finish(run, timeout_s=90)

    # Nothing but the duplicated beat went wrong: every outcome is the script's.
    assert run.outcomes() == run.expected_outcomes()
    assert len(ledger) == sum(run.expected_outcomes().values())
    # The caps were reached, so "never exceeded" was tested under pressure.
    assert max_overlap(ledger) == ORG_CAP
    for beat in ("beat0.log", "beat1.log"):
        assert "dialer.tick" in (run.stack.logdir / beat).read_text(), f"{beat} sent no tick"
    wait_for(lambda: leases_held(run) == 0, timeout_s=10, what="every channel lease released")
