"""CampaignSpec bounds: every violation reported by field name, all at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.errors import ValidationError
from dialer.spec import PRESETS, CampaignSpec, parse_campaign_spec

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def fields_of(data: dict) -> set[str]:
    with pytest.raises(ValidationError) as info:
        parse_campaign_spec(data, now=NOW)
    return set(info.value.fields)


def test_minimal_spec_takes_contract_defaults():
    spec = parse_campaign_spec({"name": "March renewals"}, now=NOW)
    assert spec.schedule.call_window.start == "09:00"
    assert spec.schedule.allowed_days == ["mon", "tue", "wed", "thu", "fri"]
    assert spec.pacing.channels == 1
    assert spec.retry.max_retries == 3
    assert spec.retry.max_attempts == 4
    assert spec.call_handling.ring_timeout_s == 30
    assert spec.safety.circuit_breaker.failure_rate == 0.5


@pytest.mark.parametrize(("patch", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 41}, "name"),
    ({"retry": {"max_retries": 11}}, "retry.max_retries"),
    ({"retry": {"max_retries": -1}}, "retry.max_retries"),
    ({"retry": {"retry_delay_minutes": 0}}, "retry.retry_delay_minutes"),
    ({"retry": {"retry_delay_minutes": 1441}}, "retry.retry_delay_minutes"),
    ({"call_handling": {"ring_timeout_s": 4}}, "call_handling.ring_timeout_s"),
    ({"call_handling": {"ring_timeout_s": 121}}, "call_handling.ring_timeout_s"),
    ({"call_handling": {"max_duration_s": 0}}, "call_handling.max_duration_s"),
    ({"call_handling": {"max_duration_s": 1801}}, "call_handling.max_duration_s"),
    ({"pacing": {"channels": -1}}, "pacing.channels"),
    ({"schedule": {"call_window": {"start": "18:00", "end": "09:00"}}}, "schedule.call_window"),
    ({"schedule": {"call_window": {"start": "9am", "end": "18:00"}}},
     "schedule.call_window.start"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "US"}, "timezone"),  # folders of the zone database, not zones
    ({"timezone": "America"}, "timezone"),
    ({"timezone": "Etc"}, "timezone"),
    ({"timezone": "x" * 300}, "timezone"),  # longer than a file name may be
    ({"schedule": {"allowed_days": []}}, "schedule.allowed_days"),
    ({"schedule": {"allowed_days": ["funday"]}}, "schedule.allowed_days[0]"),
    ({"schedule": {"start_date": "2026-03-05", "end_date": "2026-03-04"}}, "schedule"),
    ({"scheduled_at": "2026-03-01T00:00:00Z"}, "scheduled_at"),
    ({"pacing": {"preset": "reckless"}}, "pacing.preset"),
    ({"unknown_field": 1}, "unknown_field"),
])
def test_each_bound_names_its_field(patch, field):
    assert field in fields_of({"name": "ok", **patch})


def test_all_violations_reported_at_once():
    found = fields_of({
        "name": "", "retry": {"max_retries": 11}, "timezone": "Nowhere/City",
        "call_handling": {"ring_timeout_s": 1}, "scheduled_at": "2020-01-01T00:00:00Z",
    })
    assert {"name", "retry.max_retries", "timezone", "call_handling.ring_timeout_s",
            "scheduled_at"} <= found


def test_error_message_names_the_fields():
    with pytest.raises(ValueError, match=r"retry\.max_retries"):
        parse_campaign_spec({"name": "x", "retry": {"max_retries": 99}}, now=NOW)


def test_scheduled_at_in_future_accepted():
    later = (NOW + timedelta(hours=1)).isoformat()
    assert parse_campaign_spec({"name": "x", "agent_id": "a", "scheduled_at": later},
                               now=NOW).scheduled_at


def test_a_campaign_waiting_to_start_needs_its_agent():
    later = (NOW + timedelta(hours=1)).isoformat()
    for agent in ({}, {"agent_id": None}, {"agent_id": ""}):
        with pytest.raises(ValidationError) as info:
            parse_campaign_spec({"name": "x", "scheduled_at": later, **agent}, now=NOW)
        assert info.value.fields == ["agent_id"]
    # Without a start to wait for, a draft may lack it; an edit that keeps the
    # instant (check_schedule=False) is not asked again.
    assert parse_campaign_spec({"name": "x"}, now=NOW).agent_id is None
    past = (NOW - timedelta(hours=1)).isoformat()
    assert parse_campaign_spec({"name": "x", "scheduled_at": past}, now=NOW,
                               check_schedule=False).scheduled_at


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_fill_only_unset_fields(preset):
    spec = parse_campaign_spec({"name": "x", "pacing": {"preset": preset, "channels": 7}},
                               now=NOW)
    assert spec.pacing.channels == 7
    for key, value in PRESETS[preset].items():
        if key != "channels":
            assert getattr(spec.pacing, key) == value


def test_spec_object_round_trips_through_json():
    spec = CampaignSpec(name="x", timezone="America/New_York")
    again = parse_campaign_spec(spec.model_dump(mode="json"), now=NOW)
    assert again == spec


@given(st.lists(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
                max_size=8), st.randoms())
def test_holidays_are_a_set_of_dates_in_order(days, random):
    # Any order, any day twice: the same holidays, read sorted once each (so a patch
    # restating them in another order changes nothing, docs/contract.md §2b).
    shuffled = [*days, *days[:2]]
    random.shuffle(shuffled)
    spec = parse_campaign_spec({"name": "x", "schedule": {
        "holidays": [d.isoformat() for d in shuffled]}}, now=NOW)
    assert spec.schedule.holidays == sorted(set(days))
    assert spec == parse_campaign_spec({"name": "x", "schedule": {
        "holidays": [d.isoformat() for d in days]}}, now=NOW)


@settings(deadline=None)  # the first call loads the holiday calendars
@given(st.sampled_from(["name", "agent_id", "description", "external_id"]),
       st.text(max_size=5), st.text(max_size=5))
def test_a_nul_anywhere_in_a_spec_is_a_field_error(field, before, after):
    # PostgreSQL's text and jsonb hold no NUL: the insert would fail after other writes.
    spec = {"name": "March renewals", field: f"{before}\x00{after}"[:40],
            "schedule": {"holiday_country": "U\x00"}}
    with pytest.raises(ValidationError) as exc:
        parse_campaign_spec(spec, now=NOW)
    assert {field, "schedule.holiday_country"} <= set(exc.value.fields)
