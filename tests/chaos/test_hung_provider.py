"""A provider that hangs for some contacts, and refuses others, while two campaigns run.

The hung ``place_call`` blocks far longer than the dial task's time limits
(``DIALER_PROVIDER_TIMEOUT_S`` is 2 s here, so the dial task's hard limit is
about 22 s, and each hang lasts 40 s) on all four of the first campaign's
channels at once: as many as the stack has pool processes. The dialer must
stop waiting at the timeout, keep those calls' channels until their deadline
(it cannot know whether they ring), never call those contacts again before
then, and meanwhile keep ticking, dialing and recording results for everyone
else: the second campaign finishes while every hang is still going on.
"""

from __future__ import annotations

import pytest

from tests.chaos.harness import ContactPlan, finish, mixed, start_run
from tests.support.stack import wait_for

pytestmark = pytest.mark.chaos

PROVIDER_TIMEOUT_S = 2.0
HANG_S = 40.0
HUNG = 4  # the first campaign's channels, and the stack's pool processes (2 workers x 2)
REFUSED = 2


def test_a_hung_provider_stalls_nobody_else_and_its_contacts_wait_for_the_deadline(make_stack):
    hung = [ContactPlan(("answered",), provider=("hang", None),
                        extra=(("test_hang_s", HANG_S),))] * HUNG
    refused = [ContactPlan(("no_answer", "answered"), provider=("refuse", None),
                           extra=(("test_refusals", 2),))] * REFUSED
    run = start_run(make_stack, [[*hung, *refused, *mixed(6)], mixed(8)],
                    # The breaker would pause the campaign whose failures are the point.
                    spec={"safety": {"circuit_breaker": {"enabled": False}}},
                    extra_env={"DIALER_PROVIDER_TIMEOUT_S": str(PROVIDER_TIMEOUT_S)})
    ledger_of = run.stack.ledger
    first, second = (p.campaign_id for p in run.planned)

    wait_for(lambda: sum(e.outcome == "hung" for e in run.ledger()) == HUNG, timeout_s=30,
             what="every hung contact's place_call started")
    wait_for(lambda: run.client.get(second).campaign.status == "completed", timeout_s=HANG_S,
             what="the other campaign completed")
    # Ticks, dials and results went on while every hung place_call still blocked.
    assert ledger_of.hangs_ended() == {}, "the other campaign waited for the hung provider"

    ledger = finish(run, timeout_s=60)  # also: no contact called again while it might ring

    assert run.outcomes() == run.expected_outcomes()
    assert run.statuses_by_count() == run.expected_statuses()
    assert len(ledger) == sum(run.expected_outcomes().values())
    hung_calls = {e.call_id for e in ledger if e.outcome == "hung"}
    closed = {c.call_id: c for c in run.client.calls(first) if c.call_id in hung_calls}
    assert {c.outcome for c in closed.values()} == {"failed"} and len(closed) == HUNG
    # Refused twice each, then placed: refusals counted no attempt.
    assert sorted(ledger_of.refusals().values()) == [3] * REFUSED
    refused_ids = {p.contact_id for p in run.client.participants(first)
                   if p.phone.endswith(("0004", "0005"))}
    assert {e.attempt for e in ledger if e.contact_id in refused_ids} == {1, 2}
