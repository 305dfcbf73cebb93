"""The Atoms mapping (dialer/api/atoms/mapping.py): a create body and our spec say the
same thing both ways, every spec field has an Atoms name, statuses translate back."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.api.atoms import mapping
from dialer.api.atoms.schemas import CampaignCreate
from dialer.errors import ValidationError
from dialer.spec import WEEKDAYS, CampaignSpec, parse_campaign_spec
from dialer.statuses import CAMPAIGN_STATUSES

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

hours = st.integers(min_value=0, max_value=23)
minutes = st.integers(min_value=0, max_value=59)


@st.composite
def windows(draw):
    start = (draw(hours), draw(minutes))
    end = draw(st.tuples(hours, minutes).filter(lambda e: e > start))
    return {"start": f"{start[0]:02d}:{start[1]:02d}", "end": f"{end[0]:02d}:{end[1]:02d}"}


optional = st.none
# Any text a spec accepts: NUL is a field error on every path (dialer/text.py).
texts = st.characters(codec="utf-8", exclude_characters="\x00")


@st.composite
def specs(draw) -> dict:
    """A valid spec as our API stores it (CampaignSpec's JSON dump), with the agent and
    audience Atoms requires and a whole number of retry minutes (Atoms' integer)."""
    raw = {
        "name": draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                             min_size=1, max_size=40).filter(str.strip)),
        "description": draw(optional() | st.text(texts, max_size=30)),
        "agent_id": draw(st.text(texts, min_size=1, max_size=20)),
        "audience_id": draw(st.uuids().map(str)),
        "phone_number_ids": draw(st.lists(st.uuids().map(str), max_size=3)),
        "timezone": draw(st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"])),
        "priority": draw(st.integers(-1000, 1000)),
        "external_id": draw(optional() | st.text(texts, min_size=1, max_size=20)),
        "schedule": {
            "call_window": draw(windows()),
            "allowed_days": draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)),
            "holidays": draw(st.lists(st.dates(datetime(2026, 1, 1).date(),
                                               datetime(2027, 1, 1).date()), max_size=3)),
            "contact_local_time": draw(st.booleans()),
            "recurrence": draw(optional() | st.sampled_from(["daily", "weekly", "monthly"])),
        },
        "pacing": {
            "preset": draw(optional() | st.sampled_from(["conservative", "balanced"])),
            "channels": draw(st.integers(0, 50)),
            "calls_per_minute": draw(optional() | st.integers(1, 600)),
            "spacing_seconds": draw(st.sampled_from([0, 0.5, 2, 10])),
            "daily_limit": draw(optional() | st.integers(1, 10_000)),
        },
        "call_handling": {"ring_timeout_s": draw(st.integers(5, 120)),
                          "max_duration_s": draw(st.integers(1, 1800))},
        "retry": {"max_retries": draw(st.integers(0, 10)),
                  "retry_delay_minutes": draw(st.integers(1, 1440)),
                  "cooldown_hours": draw(st.sampled_from([0, 1.5, 24])),
                  "retry_on_voicemail": draw(st.booleans()),
                  "goal_based": draw(st.booleans())},
        "safety": {"respect_dnc": draw(st.booleans()),
                   "business_hours_guard": draw(st.booleans()),
                   "circuit_breaker": {"enabled": draw(st.booleans()), "min_calls": 5,
                                       "window": 10, "failure_rate": 0.25},
                   "skip_recently_completed_hours": draw(optional() | st.just(12))},
    }
    return CampaignSpec.model_validate(raw).model_dump(mode="json")


@settings(max_examples=150, deadline=None)
@given(specs())
def test_a_spec_survives_the_create_body_both_ways(spec):
    body = CampaignCreate.model_validate(mapping.create_body_from_spec(spec))
    again = parse_campaign_spec(mapping.spec_from_create(body), now=NOW)
    assert again.model_dump(mode="json") == spec


@settings(max_examples=100, deadline=None)
@given(specs())
def test_the_shown_settings_are_a_create_body(spec):
    """What GET shows under ``settings`` goes back into a create body unchanged."""
    shown = mapping.extensions_from_spec(spec).model_dump(mode="json", by_alias=True,
                                                            exclude_none=True)
    body = {"name": spec["name"], "agentId": "a", "audienceId": spec["audience_id"], **shown}
    assert CampaignCreate.model_validate(body).model_dump(by_alias=True, mode="json",
                                                          exclude_none=True)["pacing"] \
        == shown["pacing"]


def test_atoms_defaults_are_ours():
    body = CampaignCreate.model_validate({"name": "n", "agentId": "a", "audienceId": "x"})
    spec = parse_campaign_spec(mapping.spec_from_create(body), now=NOW)
    default = CampaignSpec(name="n")
    assert spec.retry == default.retry
    assert spec.schedule == default.schedule and spec.pacing == default.pacing


@pytest.mark.parametrize(("ours", "atoms"), [
    ("name", "name"), ("agent_id", "agentId"), ("audience_id", "audienceId"),
    ("phone_number_ids[2]", "phoneNumberIds[2]"), ("scheduled_at", "scheduledAt"),
    ("retry.max_retries", "maxRetries"), ("retry.retry_delay_minutes", "retryDelay"),
    ("retry.cooldown_hours", "retry.cooldownHours"),
    ("schedule.call_window.start", "callWindow.start"),
    ("schedule.allowed_days[0]", "allowedDays[0]"),
    ("pacing.calls_per_minute", "pacing.callsPerMinute"),
    ("safety.circuit_breaker.min_calls", "safety.circuitBreaker.minCalls"),
    ("call_handling.ring_timeout_s", "callHandling.ringTimeoutS"),
])
def test_error_paths_name_the_field_as_sent(ours, atoms):
    assert mapping.atoms_path(ours) == atoms


def _leaf_paths(model: type[pydantic.BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            out.extend(_leaf_paths(annotation, f"{prefix}{name}."))
        else:
            out.append(f"{prefix}{name}")
    return out


def _resolves(model: type[pydantic.BaseModel], dotted: str) -> bool:
    head, _, rest = dotted.partition(".")
    for name, field in model.model_fields.items():
        if head in (field.alias, name):
            if not rest:
                return True
            inner = [a for a in getattr(field.annotation, "__args__", (field.annotation,))
                     if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
            return bool(inner) and _resolves(inner[0], rest)
    return False


@pytest.mark.parametrize("path", _leaf_paths(CampaignSpec))
def test_every_spec_field_has_an_atoms_name(path):
    """A bound CampaignSpec reports names a field the create body has."""
    assert _resolves(CampaignCreate, mapping.atoms_path(path)), mapping.atoms_path(path)


def test_a_bad_extension_is_reported_by_its_atoms_name():
    body = CampaignCreate.model_validate({"name": "n", "agentId": "a", "audienceId": "x",
                                          "callHandling": {"ringTimeoutS": 1}})
    with pytest.raises(ValidationError) as info:
        parse_campaign_spec(mapping.spec_from_create(body), now=NOW)
    assert [mapping.atoms_path(f) for f in info.value.fields] == ["callHandling.ringTimeoutS"]


@pytest.mark.parametrize("status", CAMPAIGN_STATUSES)
def test_every_status_shows_and_filters_back(status):
    assert mapping.our_status(mapping.atoms_status(status)) == status


def test_stopped_shows_as_cancelled_and_processing_is_never_shown():
    assert mapping.atoms_status("stopped") == "cancelled"
    assert mapping.NEVER_SHOWN not in mapping.ATOMS_STATUS.values()


@given(total=st.integers(0, 10_000), page=st.integers(1, 200), offset=st.integers(1, 500))
def test_pagination_counts_pages(total, page, offset):
    p = mapping.pagination(total, page=page, offset=offset)
    skip, take = mapping.page_bounds(page=page, offset=offset)
    assert p["total_pages"] * offset >= total > (p["total_pages"] - 1) * offset or total == 0
    assert p["has_more"] == (skip + take < total)


def test_whole_minutes_are_integers():
    assert mapping.whole(15.0) == 15 and isinstance(mapping.whole(15.0), int)
    assert mapping.whole(1.5) == 1.5


def test_member_data_keeps_the_phone_under_phone_number():
    data = mapping.member_data("+14155550123", "Ann", None,
                               {"phoneNumber": "stale", "plan": "gold"})
    assert data == {"phoneNumber": "+14155550123", "name": "Ann", "plan": "gold"}


def test_a_failed_campaign_shows_its_own_error_and_failed_at():
    from dialer.views import CampaignFacts, CampaignView

    at = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    view = CampaignView(
        id="c1", name="n", description=None, status="failed", pause_reason="no_caller_id",
        agent_id="a", audience_id=None, phone_number_ids=[], scheduled_at=None,
        timezone="UTC", priority=0, external_id=None, channels=1, breaker_open=False,
        created_at=at, updated_at=at, spec={}, error="no active caller ID for 600 s",
        failed_at=at)
    facts = CampaignFacts(participants=0, retry_attempts=0, cancelled=0, paused_at=None,
                          failed_at=None, error=None, audience_name=None)
    out = mapping.campaign_out(view, facts, org_id="o")
    assert (out["error"], out["failed_at"]) == ("no active caller ID for 600 s", at)
    # A campaign failed before the columns existed: its failed event's words.
    older = view.model_copy(update={"error": None, "failed_at": None})
    event_facts = facts.model_copy(update={"error": "from the event", "failed_at": at})
    shown = mapping.campaign_out(older, event_facts, org_id="o")
    assert (shown["error"], shown["failed_at"]) == ("from the event", at)
