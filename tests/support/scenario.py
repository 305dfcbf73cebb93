"""Building blocks for integration scenarios."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from dialer.client import DialerClient
from tests.support.recording import LedgerEntry

# Monday 2 March 2026, 09:00 in New York: a window opens as the test starts.
MONDAY_9AM_NY = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def ny_contacts(scripts: list[list[str]], *, ring_s: float = 5, talk_s: float = 25,
                start: int = 0, **attributes: Any) -> list[dict[str, Any]]:
    """Contacts in New York (+1 212), each with its scripted outcomes."""
    return [{"phone": f"+1212555{start + index:04d}", "name": f"c{start + index}",
             "attributes": {"sim_outcomes": script, "sim_ring_s": ring_s,
                            "sim_duration_s": talk_s, **attributes}}
            for index, script in enumerate(scripts)]


def campaign_spec(audience_id: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "test campaign", "agent_id": "agent-1", "audience_id": audience_id,
        "timezone": "America/New_York",
        "schedule": {"call_window": {"start": "09:00", "end": "18:00"},
                     "allowed_days": ["mon", "tue", "wed", "thu", "fri"]},
        "pacing": {"channels": 4},
        "call_handling": {"ring_timeout_s": 10, "max_duration_s": 120},
        "retry": {"max_retries": 2, "retry_delay_minutes": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return spec


def launch(client: DialerClient, contacts: list[dict[str, Any]], **overrides: Any) -> str:
    audience = client.create_audience("audience", contacts)
    assert not audience.rejected, audience.rejected
    campaign = client.create_campaign(campaign_spec(audience.id, **overrides))
    client.start(campaign.id)
    return campaign.id


def status_of(client: DialerClient, campaign_id: str) -> str:
    return client.get(campaign_id).campaign.status


def assert_ledger_sane(ledger: list[LedgerEntry], *, max_attempts: int) -> None:
    """The provider-side guarantees every scenario must keep, per contact.

    For campaigns that are not goal-based (an answered call ends the contact).
    """
    ids = Counter(e.call_id for e in ledger)
    assert not [c for c, n in ids.items() if n > 1], "a call id was placed twice"
    calls: dict[tuple[str, int], list[LedgerEntry]] = defaultdict(list)
    for entry in sorted(ledger, key=lambda e: e.start):
        calls[(entry.campaign_id, entry.contact_id)].append(entry)
    for key, entries in calls.items():
        attempts = [e.attempt for e in entries]
        assert len(entries) <= max_attempts, f"contact {key} beyond its attempts: {attempts}"
        assert all(1 <= a <= max_attempts for a in attempts), f"contact {key}: {attempts}"
        assert attempts == sorted(set(attempts)), f"contact {key}: attempts {attempts}"
        for before, after in pairwise(entries):
            assert before.outcome != "answered", (
                f"contact {key} dialed again (attempt {after.attempt}) after it answered")
            # The next attempt waits for the last one's result (or its timeout).
            assert before.end <= after.start, f"contact {key}: two calls at once"
