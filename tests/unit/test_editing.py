"""The edit rules (dialer/editing.py): which field may change in which status, how a
patch merges into a stored spec, and what a change of ``scheduled_at`` does. Pure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer import editing, lifecycle
from dialer.errors import InvalidTransition
from dialer.readiness import readiness_checks
from dialer.statuses import CampaignStatus as C
from tests.unit.test_readiness import READY

STATUSES = [str(s) for s in C]
TOP_LEVEL = ["name", "description", "agent_id", "audience_id", "phone_number_ids",
             "scheduled_at", "timezone", "priority", "external_id"]
NESTED = ["schedule.call_window.start", "schedule.call_window.end", "schedule.allowed_days",
          "schedule.holidays", "schedule.start_date", "schedule.end_date",
          "schedule.recurrence", "pacing.preset", "pacing.channels",
          "pacing.calls_per_minute", "pacing.spacing_seconds", "pacing.daily_limit",
          "call_handling.ring_timeout_s", "call_handling.max_duration_s",
          "retry.max_retries", "retry.retry_delay_minutes", "safety.respect_dnc",
          "safety.circuit_breaker.min_calls"]
FIELDS = TOP_LEVEL + NESTED
RUNNING_EDITABLE = {"pacing.preset", "pacing.channels", "pacing.calls_per_minute",
                    "pacing.spacing_seconds", "pacing.daily_limit", "schedule.end_date"}
PAUSED_GROUPS = ("name", "description", "timezone", "schedule.", "pacing.", "retry.",
                 "call_handling.", "safety.")


def refused(status: str, fields: list[str], *, agent_set: bool = True,
            has_run: bool = False) -> set[str]:
    return {field for field, _ in editing.edit_errors(status, fields, agent_was_set=agent_set,
                                                      has_run=has_run)}


@given(st.sampled_from(STATUSES), st.lists(st.sampled_from(FIELDS), unique=True))
def test_every_refusal_names_a_changed_field_and_says_why(status, fields):
    errors = editing.edit_errors(status, fields, agent_was_set=True, has_run=False)
    assert {f for f, _ in errors} <= set(fields)
    assert all(message for _, message in errors)


@given(st.sampled_from(STATUSES), st.lists(st.sampled_from(FIELDS), unique=True))
def test_a_field_is_refused_exactly_when_the_table_says_so(status, fields):
    def allowed(field: str) -> bool:
        if status in (C.DRAFT, C.SCHEDULED):
            return field not in ("external_id", "agent_id")  # the agent is set here
        if status == C.PAUSED:
            return field.startswith(PAUSED_GROUPS) or field in PAUSED_GROUPS
        if status == C.RUNNING:
            return field in RUNNING_EDITABLE
        return False  # completed, stopped, failed

    assert refused(status, fields) == {f for f in fields if not allowed(f)}


@given(st.sampled_from([C.RUNNING, C.PAUSED]), st.sampled_from(NESTED + TOP_LEVEL))
def test_what_may_change_while_running_may_change_while_paused_and_in_a_draft(status, field):
    narrower = {C.RUNNING: C.PAUSED, C.PAUSED: C.DRAFT}[status]
    if not refused(status, [field]):
        assert not refused(narrower, [field])


@given(st.sampled_from([C.COMPLETED, C.STOPPED, C.FAILED]),
       st.lists(st.sampled_from(FIELDS), min_size=1, unique=True))
def test_nothing_changes_once_a_campaign_has_ended(status, fields):
    assert refused(status, fields) == set(fields)
    for _, message in editing.edit_errors(status, fields, agent_was_set=False, has_run=True):
        assert status in message


@given(st.sampled_from(STATUSES), st.booleans())
def test_the_agent_is_set_once_while_a_draft_and_never_changes(status, agent_set):
    allowed = not agent_set and status in (C.DRAFT, C.SCHEDULED)
    assert refused(status, ["agent_id"], agent_set=agent_set) == (set() if allowed
                                                                  else {"agent_id"})


@given(st.sampled_from([C.DRAFT, C.SCHEDULED]), st.booleans())
def test_the_audience_changes_only_before_the_first_run(status, has_run):
    assert refused(status, ["audience_id"], has_run=has_run) == (
        {"audience_id"} if has_run else set())


def test_the_messages_say_why():
    (field, message), = editing.edit_errors(C.RUNNING, ["name"], agent_was_set=True,
                                            has_run=False)
    assert field == "name" and message == "cannot change while running"
    (_, message), = editing.edit_errors(C.DRAFT, ["agent_id"], agent_was_set=True,
                                        has_run=False)
    assert "never changes" in message


# -- merging a patch -----------------------------------------------------------------

leaves = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3),
                   st.lists(st.integers(0, 3), max_size=2))
keys = st.sampled_from(["a", "b", "c", "d"])
trees: st.SearchStrategy[Any] = st.recursive(
    leaves, lambda children: st.dictionaries(keys, children, max_size=3), max_leaves=8)
objects = st.dictionaries(keys, trees, max_size=4)
# Nested dictionaries are slow to draw on a loaded machine; the checks themselves are cheap.
trees_settings = settings(suppress_health_check=[HealthCheck.too_slow])


@trees_settings
@given(objects)
def test_an_empty_patch_changes_nothing(base):
    assert editing.merge_patch(base, {}) == base
    assert editing.changed_fields(base, editing.merge_patch(base, {})) == []


@trees_settings
@given(objects, objects)
def test_a_patch_merges_objects_and_replaces_everything_else(base, patch):
    merged = editing.merge_patch(base, patch)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            assert merged[key] == editing.merge_patch(base[key], value)
        else:
            assert merged[key] == value  # null included: it clears the field
    for key in base.keys() - patch.keys():
        assert merged[key] == base[key]


@trees_settings
@given(objects, objects)
def test_merging_never_changes_its_inputs(base, patch):
    import copy

    before, asked = copy.deepcopy(base), copy.deepcopy(patch)
    editing.merge_patch(base, patch)
    assert (base, patch) == (before, asked)


@trees_settings
@given(objects, objects)
def test_changed_fields_are_the_leaves_that_differ(base, patch):
    merged = editing.merge_patch(base, patch)
    changed = editing.changed_fields(base, merged)
    assert changed == sorted(set(changed))
    assert (changed == []) == (merged == base)
    for path in changed:
        assert _leaf(base, path) != _leaf(merged, path)


def _leaf(tree: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return "<absent>"
        tree = tree[part]
    return tree


def test_changed_fields_name_nested_leaves_by_dotted_path():
    base = {"name": "a", "pacing": {"channels": 1, "daily_limit": None},
            "schedule": {"call_window": {"start": "09:00", "end": "18:00"}}}
    after = editing.merge_patch(base, {"pacing": {"channels": 5},
                                       "schedule": {"call_window": {"end": "20:00"}}})
    assert editing.changed_fields(base, after) == ["pacing.channels",
                                                   "schedule.call_window.end"]


def test_choosing_a_preset_lets_it_fill_the_pacing_fields_the_patch_leaves_out():
    stored = {"name": "x", "pacing": {"preset": "conservative", "channels": 2,
                                      "calls_per_minute": 6, "spacing_seconds": 10,
                                      "daily_limit": 500}}
    merged = editing.merge_spec_patch(stored, {"pacing": {"preset": "aggressive",
                                                          "channels": 7}})
    assert merged["pacing"] == {"preset": "aggressive", "channels": 7}
    # The same preset again is no choice: the stored fields stay.
    same = editing.merge_spec_patch(stored, {"pacing": {"preset": "conservative",
                                                        "channels": 3}})
    assert same["pacing"]["calls_per_minute"] == 6 and same["pacing"]["channels"] == 3


# -- scheduled_at --------------------------------------------------------------------

def test_setting_moving_and_clearing_the_schedule():
    at, later = "2030-01-01T09:00:00Z", "2030-01-02T09:00:00Z"
    assert editing.schedule_move(C.DRAFT, None, at) == "schedule"
    assert editing.schedule_move(C.SCHEDULED, at, later) == "reschedule"
    assert editing.schedule_move(C.SCHEDULED, at, None) == "unschedule"
    assert editing.schedule_move(C.DRAFT, None, None) is None
    assert editing.schedule_move(C.SCHEDULED, at, at) is None
    # Elsewhere scheduled_at is not editable (edit_errors refuses it): no move.
    assert editing.schedule_move(C.RUNNING, at, later) is None


# -- the agent: the readiness checklist and the lifecycle say the same -----------------

@given(st.sampled_from([None, "", "agent-1"]), st.sampled_from(["start", "schedule"]))
def test_readiness_fails_the_agent_check_exactly_when_a_start_is_refused(agent, command):
    check = {c.name: c for c in readiness_checks(replace(READY, agent_id=agent))}["agent"]
    if check.ok:
        lifecycle.check_agent(command, agent)
    else:
        with pytest.raises(InvalidTransition) as info:
            lifecycle.check_agent(command, agent)
        assert info.value.field == "agent_id" and check.detail in str(info.value)
