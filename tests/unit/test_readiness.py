"""The "will it dial?" checklist, from facts alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from dialer.readiness import ReadinessFacts, readiness_checks, will_dial

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=timezone(timedelta(hours=-5)))

READY = ReadinessFacts(
    status="running", pause_reason=None, scheduled_at=None, agent_id="agent-1",
    numbers_listed=2, numbers_active=1, contacts_waiting=10, contacts_due=4, channels=3,
    org_channel_cap=100, zones_sampled=2, zones_open=1, next_opening=None, closed_reason=None,
    breaker_open=False, leases_ready=True)


def failing(facts: ReadinessFacts) -> dict[str, str]:
    return {c.name: c.detail for c in readiness_checks(facts) if not c.ok}


def test_a_ready_campaign_passes_every_check():
    checks = readiness_checks(READY)
    assert will_dial(checks)
    assert [c.name for c in checks] == [
        "running", "agent", "caller IDs", "contacts", "channels", "window open now",
        "breaker closed", "channel store ready"]


def test_no_caller_ids_listed_is_not_a_blocker():
    facts = replace(READY, numbers_listed=0, numbers_active=0)
    assert will_dial(readiness_checks(facts))


@pytest.mark.parametrize(("change", "name", "says"), [
    ({"status": "paused", "pause_reason": "circuit_breaker"}, "running", "circuit_breaker"),
    ({"status": "draft"}, "running", "start it"),
    ({"status": "scheduled", "scheduled_at": NOW}, "running", NOW.isoformat()),
    ({"status": "completed"}, "running", "completed"),
    ({"agent_id": None}, "agent", "no agent_id"),
    ({"numbers_active": 0}, "caller IDs", "0 of 2"),
    ({"contacts_waiting": 0, "contacts_due": 0}, "contacts", "no contact left"),
    ({"channels": 0}, "channels", "0 channels"),
    ({"org_channel_cap": 0}, "channels", "DIALER_ORG_CHANNEL_CAP"),
    ({"zones_open": 0, "next_opening": NOW + timedelta(hours=14)}, "window open now",
     (NOW + timedelta(hours=14)).isoformat()),
    ({"zones_open": 0, "next_opening": None}, "window open now", "not within a year"),
    ({"zones_open": 0, "closed_reason": "holiday"}, "window open now", "(holiday)"),
    ({"breaker_open": True}, "breaker closed", "reset_breaker"),
    ({"leases_ready": False}, "channel store ready", "rebuilds"),
])
def test_each_missing_condition_fails_alone_and_says_what_to_do(change, name, says):
    facts = replace(READY, **change)
    fails = failing(facts)
    assert list(fails) == [name]
    assert says in fails[name]
    assert not will_dial(readiness_checks(facts))
