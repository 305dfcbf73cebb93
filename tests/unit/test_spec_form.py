"""The campaign form's fields <-> the spec dict (dialer/api/console/spec_form.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialer import editing
from dialer.api.console import spec_form
from dialer.spec import WEEKDAYS, CampaignSpec
from dialer.statuses import CampaignStatus as C

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]
UUID = "7f0c4a56-1d7e-4c1f-9a51-0d4b8d7f9e21"


def hhmm() -> st.SearchStrategy[str]:
    return st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


dates = st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2040, 1, 1).date())
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
halves = st.integers(0, 48).map(lambda n: n / 2)  # floats a person types: 0, 0.5, 1 ...


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec as the API stores it (its JSON dump)."""
    start, end = sorted(draw(st.lists(hhmm(), min_size=2, max_size=2, unique=True)))
    first, last = sorted([draw(maybe(dates)), draw(maybe(dates))],
                         key=lambda d: (d is None, d))
    zone = draw(st.sampled_from(ZONES))
    at = draw(maybe(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1)
                                 ).map(lambda d: d.replace(microsecond=0, tzinfo=UTC))))
    if at is not None:
        # A wall-clock time that happens twice (a clock going back) names one of two
        # instants: the form cannot tell which, so the round trip leaves those out.
        local = at.astimezone(ZoneInfo(zone))
        assume(local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset())
    window = draw(st.integers(1, 200))
    raw = {
        "name": draw(text.filter(str.strip)),
        "description": draw(maybe(text)),
        "agent_id": draw(maybe(st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True))),
        "audience_id": UUID,
        "phone_number_ids": draw(st.lists(st.uuids().map(str), max_size=3, unique=True)),
        "scheduled_at": None if at is None else at.isoformat(),
        "timezone": zone,
        "priority": draw(st.integers(-1000, 1000)),
        "schedule": {
            "call_window": {"start": start, "end": end},
            "allowed_days": draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)),
            "holidays": [d.isoformat() for d in draw(st.lists(dates, max_size=3))],
            "holiday_country": draw(maybe(st.sampled_from(["US", "DE", "FR"]))),
            "start_date": first and first.isoformat(),
            "end_date": last and last.isoformat(),
            "contact_local_time": draw(st.booleans()),
            "recurrence": draw(maybe(st.sampled_from(spec_form.RECURRENCES))),
        },
        "pacing": {
            "preset": draw(maybe(st.sampled_from(spec_form.PRESET_NAMES))),
            "channels": draw(st.integers(0, 100)),
            "calls_per_minute": draw(maybe(st.integers(1, 6000))),
            "spacing_seconds": draw(halves),
            "daily_limit": draw(maybe(st.integers(1, 10_000))),
        },
        "call_handling": {"ring_timeout_s": draw(st.integers(5, 120)),
                          "max_duration_s": draw(st.integers(1, 1800))},
        "retry": {"max_retries": draw(st.integers(0, 10)),
                  "retry_delay_minutes": draw(halves.map(lambda h: h + 1)),
                  "cooldown_hours": draw(halves), "not_picked_cooldown_hours": draw(halves),
                  "retry_on_voicemail": draw(st.booleans()), "goal_based": draw(st.booleans())},
        "safety": {"respect_dnc": draw(st.booleans()),
                   "business_hours_guard": draw(st.booleans()),
                   "skip_recently_completed_hours": draw(maybe(halves)),
                   "circuit_breaker": {"enabled": draw(st.booleans()),
                                       "failure_rate": draw(st.integers(1, 100)) / 100,
                                       "min_calls": draw(st.integers(1, window)),
                                       "window": window}},
    }
    return stored(raw)


def leaves(tree: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of a nested dict's leaves."""
    return sorted(path for key, value in tree.items()
                  for path in (leaves(value, f"{prefix}{key}.") if isinstance(value, dict)
                               else [f"{prefix}{key}"]))


def stored(spec: dict[str, Any]) -> dict[str, Any]:
    """As the API stores it (an instant compared in UTC: the form writes its offset)."""
    parsed = CampaignSpec.model_validate(spec)
    if parsed.scheduled_at is not None:
        parsed = parsed.model_copy(update={"scheduled_at": parsed.scheduled_at.astimezone(UTC)})
    return parsed.model_dump(mode="json")


@settings(max_examples=200, deadline=None)
@given(specs())
def test_a_spec_shown_in_the_form_and_posted_back_is_the_same_spec(spec):
    posted = spec_form.spec_from_form(spec_form.form_values(spec))
    assert stored(posted) == spec


@settings(max_examples=100, deadline=None)
@given(specs(), st.integers(0, 999_999))
def test_a_form_posted_unchanged_patches_nothing(spec, microsecond):
    if spec["scheduled_at"] is not None:  # a start stored with a fraction of a second
        at = datetime.fromisoformat(spec["scheduled_at"]).replace(microsecond=microsecond)
        spec = {**spec, "scheduled_at": at.isoformat()}
    shown = spec_form.form_values(spec)
    assert spec_form.patch(shown, shown) == {}


NUMBERS = [f for f in spec_form.FIELDS
           if f.kind in ("int", "float") and f.path not in spec_form.PACING_NUMBERS]


@settings(max_examples=100, deadline=None)
@given(specs(), st.sampled_from(NUMBERS), st.integers(1, 5))
def test_a_changed_number_is_the_only_field_patched(spec, field, step):
    shown = spec_form.form_values(spec)
    posted = {**shown, field.path: [str(float(shown[field.path][0] or 0) + step)]}
    assert leaves(spec_form.patch(shown, posted)) == [field.path]


def merged(stored_spec: dict[str, Any], changes: dict[str, Any]) -> CampaignSpec:
    """The spec an edit stores (as the API merges and checks it)."""
    return CampaignSpec.model_validate(editing.merge_spec_patch(stored_spec, changes))


@st.composite
def elsewhere(draw: st.DrawFn, spec: dict[str, Any]) -> dict[str, Any]:
    """The stored spec after a change made elsewhere (another tab, the API)."""
    changes = draw(st.sampled_from([
        {"pacing": {"channels": (spec["pacing"]["channels"] + 1) % 100}},
        {"name": spec["name"] + " (renamed)"},
        {"retry": {"max_retries": (spec["retry"]["max_retries"] + 1) % 11}},
        {"description": None if spec["description"] else "described elsewhere"},
    ]))
    return stored(editing.merge_patch(spec, changes))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_stale_form_keeps_a_change_made_elsewhere_and_sends_only_its_own(data):
    spec = data.draw(specs())
    shown = spec_form.form_values(spec)
    now = data.draw(elsewhere(spec))
    path = data.draw(st.sampled_from(["retry.cooldown_hours", "retry.retry_delay_minutes",
                                      "safety.skip_recently_completed_hours"]))
    posted = {**shown, path: [str(float(shown[path][0] or 0) + 1)]}
    changes = spec_form.patch(shown, posted)
    assert leaves(changes) == [path]
    after = merged(now, changes).model_dump(mode="json")
    assert after == stored(editing.merge_patch(now, changes))
    others = [p for p in leaves(now) if p != path]
    assert all(spec_form._get(after, p) == spec_form._get(now, p) for p in others)


pacing_input = st.one_of(st.just(""), st.integers(1, 50).map(str))


@settings(max_examples=200, deadline=None)
@given(specs(), st.sampled_from(["", *spec_form.PRESET_NAMES]),
       st.fixed_dictionaries({p: pacing_input for p in spec_form.PACING_NUMBERS}),
       st.sets(st.sampled_from(spec_form.PACING_NUMBERS)))
def test_an_edited_pacing_is_stored_as_the_form_shows_it(spec, preset, typed, touched):
    """Whatever the preset and pacing numbers posted (blank: what the hint promises,
    the preset's value or the spec's default), the stored pacing is what the form
    showed, never a preset's or default's value the person did not see."""
    shown = spec_form.form_values(spec)
    posted = {**shown, "pacing.preset": [preset]}
    posted.update({p: [typed[p]] for p in touched})
    after = merged(spec, spec_form.patch(shown, posted))
    for path in spec_form.PACING_NUMBERS:
        text = posted[path][0]
        expected = (spec_form.promised(path, preset or None) if not text
                    else float(text) if path.endswith("spacing_seconds") else int(text))
        assert spec_form._get(after.model_dump(mode="json"), path) == expected, path
    assert after.pacing.preset == (preset or None)


def test_clearing_the_preset_keeps_the_numbers_shown():
    spec = stored({"name": "a", "audience_id": UUID, "pacing": {"preset": "balanced"}})
    shown = spec_form.form_values(spec)
    changes = spec_form.patch(shown, {**shown, "pacing.preset": [""]})
    assert changes == {"pacing": {"preset": None, "channels": 5, "calls_per_minute": 20,
                                  "spacing_seconds": 2, "daily_limit": None}}
    assert merged(spec, changes).pacing.channels == 5


def test_a_blank_pacing_number_in_an_edit_is_what_its_hint_promises():
    spec = stored({"name": "a", "audience_id": UUID, "pacing": {"channels": 4,
                                                               "spacing_seconds": 3}})
    shown = spec_form.form_values(spec)
    blank = {**shown, "pacing.channels": [""], "pacing.spacing_seconds": [""]}
    # No preset: "Empty: the preset's, or 1" / "or 0".
    assert spec_form.patch(shown, blank) == {"pacing": {"channels": 1, "spacing_seconds": 0}}
    assert merged(spec, spec_form.patch(shown, blank)).pacing.channels == 1
    with_preset = {**blank, "pacing.preset": ["conservative"]}
    assert merged(spec, spec_form.patch(shown, with_preset)).pacing.channels == 2


def test_every_input_is_a_spec_field_and_every_spec_field_but_external_id_an_input():
    every = leaves(CampaignSpec(name="x").model_dump(mode="json"))
    assert sorted(f.path for f in spec_form.FIELDS) == [p for p in every if p != "external_id"]


def test_what_a_browser_posts_becomes_typed_values_and_blank_inputs_are_left_out():
    spec = spec_form.spec_from_form({
        "name": ["Spring"], "description": [""], "pacing.channels": ["4"],
        "pacing.spacing_seconds": ["2.5"], "pacing.daily_limit": [""],
        "schedule.allowed_days": ["mon", "wed"],
        "schedule.holidays": ["2026-12-25\n2026-12-26, 2027-01-01"],
        "safety.respect_dnc": ["on"], "timezone": ["America/New_York"],
        "scheduled_at": ["2026-03-05T10:00"], "retry.max_retries": ["three"],
    })
    assert spec["name"] == "Spring" and "description" not in spec
    assert spec["pacing"] == {"channels": 4, "spacing_seconds": 2.5}
    assert spec["schedule"]["allowed_days"] == ["mon", "wed"]
    assert spec["schedule"]["holidays"] == ["2026-12-25", "2026-12-26", "2027-01-01"]
    assert spec["schedule"]["contact_local_time"] is False  # an unticked box
    assert spec["safety"]["respect_dnc"] is True
    assert spec["scheduled_at"] == "2026-03-05T10:00:00-05:00"  # the campaign's wall clock
    assert spec["retry"]["max_retries"] == "three"  # left for the spec to refuse


def test_a_preset_fills_the_pacing_numbers_left_blank():
    values = spec_form.new_form_values(CampaignSpec(name="x").model_dump(mode="json"))
    values.update(name=["x"], audience_id=[UUID], **{"pacing.preset": ["conservative"]})
    spec = CampaignSpec.model_validate(spec_form.spec_from_form(values))
    assert (spec.pacing.channels, spec.pacing.daily_limit) == (2, 500)


def test_an_edit_sends_changed_fields_only_and_never_a_locked_one():
    spec = stored({"name": "a", "agent_id": "agent-1", "audience_id": UUID,
                   "pacing": {"channels": 2}})
    shown = spec_form.form_values(spec)
    values = {**shown, "name": ["b"], "pacing.channels": ["7"], "agent_id": ["agent-2"],
              "description": ["now described"], "call_handling.ring_timeout_s": [""]}
    locked = spec_form.locks(C.RUNNING, agent_set=True, has_run=True)
    assert spec_form.patch(shown, values, locked) == {"pacing": {"channels": 7}}
    paused = spec_form.locks(C.PAUSED, agent_set=True, has_run=True)
    assert spec_form.patch(shown, values, paused) == {
        "name": "b", "description": "now described", "pacing": {"channels": 7},
        "call_handling": {"ring_timeout_s": None}}  # cleared: the spec refuses it


@given(st.sampled_from(list(editing.EDITABLE)), st.booleans(), st.booleans(),
       st.sampled_from(spec_form.FIELDS))
def test_a_locked_field_is_one_the_api_would_refuse_to_change(status, agent_set, has_run,
                                                              field):
    refused = editing.edit_errors(status, [field.path], agent_was_set=agent_set,
                                  has_run=has_run)
    locks = spec_form.locks(status, agent_set=agent_set, has_run=has_run)
    assert (field.path in locks) == bool(refused)


def test_the_reason_a_field_is_locked_is_the_apis_as_a_sentence():
    assert spec_form.locks(C.RUNNING, agent_set=False, has_run=True)["name"] == (
        "Cannot change while running")
    assert spec_form.locks(C.DRAFT, agent_set=True, has_run=False) == {
        "agent_id": "The agent never changes once set"}
    assert spec_form.locks(C.COMPLETED, agent_set=True, has_run=True)["pacing.channels"] == (
        "Cannot change a campaign that is completed")


def test_a_recurring_campaign_scheduled_again_keeps_its_audience():
    # Re-armed to scheduled after a run: everything else may change, not the audience.
    assert spec_form.locks(C.SCHEDULED, agent_set=False, has_run=True) == {
        "audience_id": "Cannot change once the campaign has run; "
                       "add contacts to its audience instead"}
    assert spec_form.locks(C.SCHEDULED, agent_set=False, has_run=False) == {}


def test_the_rendered_values_travel_in_one_hidden_input_and_a_bad_one_is_ignored():
    values = {"name": ['"a" <b>'], "schedule.allowed_days": ["mon", "tue"]}
    assert spec_form.shown_from({spec_form.SHOWN: [spec_form.shown_json(values)]}) == values
    for bad in ("", "not json", "[1]", '{"name": "a"}', '{"name": [1]}'):
        assert spec_form.shown_from({spec_form.SHOWN: [bad]}) is None
    assert spec_form.shown_from({}) is None


@pytest.mark.parametrize(("error", "field"), [
    ("schedule.call_window", "schedule.call_window.end"),
    ("schedule.call_window.start", "schedule.call_window.start"),
    ("schedule", "schedule.end_date"),
    ("safety.circuit_breaker", "safety.circuit_breaker.min_calls"),
    ("phone_number_ids[1]", "phone_number_ids"),
    ("schedule.holidays[0]", "schedule.holidays"),
    ("external_id", None),
    ("spec", None),
])
def test_an_error_is_shown_at_the_input_it_names(error, field):
    assert spec_form.input_for(error) == field


def test_errors_are_placed_at_their_inputs_and_all_listed_in_the_summary():
    by_input, summary = spec_form.place_errors([
        ("pacing.channels", "must be at least 0"), ("spec", "something else")])
    assert by_input == {"pacing.channels": ["must be at least 0"]}
    assert summary == [("pacing.channels", "Channels", "must be at least 0"),
                       (None, "spec", "something else")]


def test_an_edit_shows_what_was_typed_and_the_stored_value_of_a_locked_field():
    spec = stored({"name": "a", "audience_id": UUID})
    shown = spec_form.shown_values({"name": ["typed"], "pacing.channels": ["x"]},
                                   spec_form.form_values(spec), {"audience_id"})
    assert shown["name"] == ["typed"] and shown["pacing.channels"] == ["x"]
    assert shown["audience_id"] == [UUID]
    assert shown["safety.respect_dnc"] == []  # unticked as posted


def test_an_instant_is_shown_on_the_campaigns_wall_clock():
    spec = stored({"name": "a", "audience_id": UUID, "timezone": "America/New_York",
                   "scheduled_at": (datetime(2026, 3, 5, 15, tzinfo=UTC)).isoformat()})
    assert spec_form.form_values(spec)["scheduled_at"] == ["2026-03-05T10:00"]


def test_an_estimate_needs_no_name_yet():
    assert spec_form.estimate_spec({"name": [""]})["name"] == "unsaved"
    assert spec_form.estimate_spec({"name": ["Spring"]})["name"] == "Spring"


def test_a_stored_zone_the_select_does_not_list_is_still_offered():
    assert ("EST", "EST") in spec_form.zone_choices("EST")
    assert spec_form.zone_choices("UTC") == spec_form.zone_choices("")
    assert ("America/New_York", "America/New_York") in spec_form.zone_choices("")


def test_a_disabled_caller_id_is_offered_only_while_the_campaign_names_it():
    numbers = [("a", "+12125550100", True), ("b", "+12125550101", False)]
    assert spec_form.number_choices(numbers, []) == [("a", "+12125550100")]
    assert spec_form.number_choices(numbers, ["b"]) == [
        ("a", "+12125550100"), ("b", "+12125550101 (disabled)")]
    assert spec_form.audience_choices([("x", "Leads", 1), ("y", "More", 2000)]) == [
        ("x", "Leads (1 contact)"), ("y", "More (2,000 contacts)")]
