"""The guarantees every chaos scenario must keep, checked once, the same way.

The provider's ledger is the witness (it knows nothing of the dialer's
tables); the final state in PostgreSQL, read through the client, shows that
nobody was lost. Ledger intervals ``[start, end)`` lie inside the channel's
lease (see ``tests.support.recording``), so caps are compared exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dialer.client import DialerClient
from dialer.statuses import PARTICIPANT_TERMINAL
from tests.support.recording import LedgerEntry, max_overlap
from tests.support.scenario import assert_ledger_sane

# What the dialer must record for a call the provider saw: the provider's
# outcome, or ``failed`` (it never placed the call, or never reported it).
_PROVIDER_FAILURES = {"raised": "failed", "silent": "failed", "hung": "failed"}


@dataclass(frozen=True)
class Planned:
    """One campaign of a scenario, as the test configured it."""

    campaign_id: str
    channels: int
    max_attempts: int
    contacts: int


def assert_invariants(ledger: list[LedgerEntry], client: DialerClient, planned: list[Planned], *,
                      org_cap: int) -> None:
    by_campaign = {p.campaign_id: p for p in planned}
    assert {e.campaign_id for e in ledger} <= set(by_campaign), "a call for an unknown campaign"
    twice = [c for c, n in Counter(e.call_id for e in ledger).items() if n > 1]
    assert not twice, f"call ids placed twice: {twice}"
    for plan in planned:
        assert_ledger_sane([e for e in ledger if e.campaign_id == plan.campaign_id],
                           max_attempts=plan.max_attempts)
    _assert_caps(ledger, planned, org_cap=org_cap)
    for plan in planned:
        _assert_finished(client, plan, [e for e in ledger if e.campaign_id == plan.campaign_id])


def _assert_caps(ledger: list[LedgerEntry], planned: list[Planned], *, org_cap: int) -> None:
    peak = max_overlap(ledger)
    assert peak <= org_cap, f"organisation cap {org_cap} exceeded: {peak} calls at once"
    for plan in planned:
        peak = max_overlap(ledger, key=lambda e, cid=plan.campaign_id: e.campaign_id == cid)
        assert peak <= plan.channels, (
            f"campaign {plan.campaign_id}: {peak} calls at once on {plan.channels} channels")


def _assert_finished(client: DialerClient, plan: Planned, ledger: list[LedgerEntry]) -> None:
    detail = client.get(plan.campaign_id)
    assert detail.campaign.status == "completed", detail.campaign.status
    assert detail.metrics.in_progress == 0 and detail.metrics.channels_in_use == 0
    participants = client.participants(plan.campaign_id)
    assert len(participants) == plan.contacts, "a contact vanished from its campaign"
    open_ = [p for p in participants if p.status not in PARTICIPANT_TERMINAL]
    assert not open_, f"contacts left open: {open_}"
    calls = {c.call_id: c for c in client.calls(plan.campaign_id)}
    assert all(c.ended_at is not None and c.outcome for c in calls.values()), "a call left open"
    per_contact = Counter(c.contact_id for c in calls.values())
    for p in participants:
        assert p.attempts == per_contact[p.contact_id], f"attempts miscounted for {p}"
    for entry in ledger:
        call = calls.get(entry.call_id)
        assert call is not None, f"the provider placed call {entry.call_id} the dialer forgot"
        assert (call.contact_id, call.attempt) == (entry.contact_id, entry.attempt)
        expected = _PROVIDER_FAILURES.get(entry.outcome, entry.outcome)
        assert call.outcome in (expected, "failed"), (
            f"call {entry.call_id}: provider said {entry.outcome}, dialer kept {call.outcome}")
