"""The arguments of every remote task, validated before anything is applied."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from dialer.errors import ValidationError
from dialer.task_args import (
    RemoteLimits,
    envelope_errors,
    parse_call_result,
    parse_campaign_command,
    parse_enqueue_campaign,
    parse_task_args,
)

LIMITS = RemoteLimits(max_contacts=1000, max_message_bytes=1_000_000)
CALL_ID = "6f1c2f9e-0000-4000-8000-000000000001"


def fields(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return dict(exc.value.errors)


# -- dialer.call_result -------------------------------------------------------

def test_a_well_formed_result_passes_with_its_defaults() -> None:
    parsed = parse_call_result([], {"call_id": CALL_ID, "outcome": "answered"})
    assert (parsed.call_id, parsed.outcome, parsed.duration_s, parsed.goal_achieved,
            parsed.detail) == (CALL_ID, "answered", 0.0, None, None)


def test_positional_arguments_take_the_documented_order() -> None:
    parsed = parse_call_result([CALL_ID, "busy", 3], {"detail": "carrier said busy"})
    assert (parsed.outcome, parsed.duration_s, parsed.detail) == ("busy", 3.0,
                                                                 "carrier said busy")


@pytest.mark.parametrize("goal", ["false", "true", 0, 1, "", [], {}])
def test_goal_achieved_must_be_a_real_boolean(goal: Any) -> None:
    # The string "false" is truthy: taken as given it would complete a goal-based contact.
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {"call_id": CALL_ID, "outcome": "answered", "goal_achieved": goal})
    assert "goal_achieved" in fields(exc)


@pytest.mark.parametrize("duration", [-1, -0.5, math.nan, math.inf, -math.inf, "12", True,
                                      None, 1e400])
def test_duration_is_a_non_negative_finite_number(duration: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {"call_id": CALL_ID, "outcome": "answered",
                               "duration_s": duration})
    assert "duration_s" in fields(exc)


@pytest.mark.parametrize("outcome", ["ANSWERED", "completed", "", None, 3, ["answered"]])
def test_outcome_must_be_in_the_vocabulary(outcome: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {"call_id": CALL_ID, "outcome": outcome})
    assert "outcome" in fields(exc)


@pytest.mark.parametrize("detail", ["a\x00b", "x" * 2001, 5, {"a": 1}])
def test_detail_is_bounded_text_without_nul(detail: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {"call_id": CALL_ID, "outcome": "failed", "detail": detail})
    assert "detail" in fields(exc)


@pytest.mark.parametrize("call_id", ["", "x" * 100_000, 7, None, ["a"], "a\x00b"])
def test_call_id_is_a_bounded_string(call_id: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {"call_id": call_id, "outcome": "failed"})
    assert "call_id" in fields(exc)


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {"call_id": CALL_ID, "outcome": "nope", "duration_s": -1,
                               "goal_achieved": "false", "detial": "typo"})
    assert set(fields(exc)) == {"outcome", "duration_s", "goal_achieved", "detial"}
    assert fields(exc)["detial"] == "unexpected argument"


def test_missing_required_arguments_are_named() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([], {})
    assert set(fields(exc)) == {"call_id", "outcome"}


def test_too_many_positional_arguments_are_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([CALL_ID, "busy", 1, None, None, None, None, None, None, "extra"], {})
    assert "args" in fields(exc)


def test_an_argument_given_twice_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_call_result([CALL_ID], {"call_id": CALL_ID, "outcome": "busy"})
    assert "call_id" in fields(exc)


# -- dialer.enqueue_campaign --------------------------------------------------

def test_a_misspelt_keyword_is_a_field_error() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_enqueue_campaign([], {"spec": {"name": "x"}, "contact": []}, limits=LIMITS)
    assert fields(exc) == {"contact": "unexpected argument"}


def test_contacts_above_the_limit_are_refused_naming_the_limit() -> None:
    contacts = [{"phone": "+12125550100"}] * (LIMITS.max_contacts + 1)
    with pytest.raises(ValidationError) as exc:
        parse_enqueue_campaign([], {"spec": {}, "contacts": contacts}, limits=LIMITS)
    assert "1000" in fields(exc)["contacts"] and "1001" in fields(exc)["contacts"]


def test_contacts_at_the_limit_pass() -> None:
    contacts = [{"phone": "+12125550100"}] * LIMITS.max_contacts
    parsed = parse_enqueue_campaign([{"name": "x"}], {"contacts": contacts}, limits=LIMITS)
    assert len(parsed.contacts or []) == LIMITS.max_contacts and parsed.start is False


@pytest.mark.parametrize("kwargs", [
    {"spec": "not an object"}, {"spec": {}, "contacts": {"phone": "+1"}},
    {"spec": {}, "start": "false"}, {"spec": {}, "start": 1}, {}])
def test_enqueue_shapes_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_enqueue_campaign([], kwargs, limits=LIMITS)


# -- dialer.campaign_command --------------------------------------------------

def test_a_command_takes_only_its_own_arguments() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_campaign_command([], {"campaign_id": CALL_ID, "command": "pause", "chanels": 3})
    assert fields(exc) == {"chanels": "unexpected argument"}


def test_allocate_channels_takes_an_integer() -> None:
    parsed = parse_campaign_command([CALL_ID, "allocate_channels"], {"channels": 7})
    assert (parsed.campaign_id, parsed.command, parsed.args) == (CALL_ID, "allocate_channels",
                                                                  {"channels": 7})
    for bad in (True, "7", -1, 1.5, None):
        with pytest.raises(ValidationError) as exc:
            parse_campaign_command([], {"campaign_id": CALL_ID, "command": "allocate_channels",
                                        "channels": bad})
        assert "channels" in fields(exc)


def test_an_unknown_command_names_the_field() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_campaign_command([], {"campaign_id": CALL_ID, "command": "explode"})
    assert "command" in fields(exc) and "one of" in fields(exc)["command"]


def test_a_campaign_id_is_a_bounded_string() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_campaign_command([], {"campaign_id": "x" * 100_000, "command": "start"})
    assert "campaign_id" in fields(exc)


# -- the message envelope -----------------------------------------------------

def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def envelope(**overrides: Any) -> list[tuple[str, str]]:
    values: dict[str, Any] = {"task_id": CALL_ID, "args": [], "kwargs": {}, "body_bytes": 100}
    values |= overrides
    return envelope_errors(values["task_id"], values["args"], values["kwargs"],
                           body_bytes=values["body_bytes"], limits=LIMITS)


def test_a_plain_envelope_passes() -> None:
    assert envelope(args=[1, "a", {"b": [None]}], kwargs={"x": nested(20)}) == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"args": {"a": 1}}, "args"), ({"args": "abc"}, "args"), ({"kwargs": [1, 2]}, "kwargs"),
    ({"kwargs": "x"}, "kwargs"), ({"task_id": "x" * 100_000}, "id"), ({"task_id": None}, "id"),
    ({"task_id": ["a"]}, "id"), ({"body_bytes": 1_000_001}, "message"),
    ({"kwargs": {"x": nested(600)}}, "x"), ({"args": [1, nested(100_000)]}, "args[1]"),
])
def test_a_malformed_envelope_names_its_field(overrides: dict[str, Any], field: str) -> None:
    assert field in dict(envelope(**overrides))


JSON = hs.recursive(
    hs.none() | hs.booleans() | hs.floats(allow_nan=True) | hs.integers() | hs.text(),
    lambda children: hs.lists(children) | hs.dictionaries(hs.text(), children),
    max_leaves=40)


@given(args=JSON, kwargs=JSON, task_id=JSON, depth=hs.integers(0, 3000))
@settings(max_examples=200, deadline=None)
def test_envelope_checks_never_raise(args: Any, kwargs: Any, task_id: Any, depth: int) -> None:
    errors = envelope_errors(task_id, [nested(depth), args], kwargs, body_bytes=10,
                             limits=LIMITS)
    assert all(isinstance(f, str) and isinstance(m, str) for f, m in errors)


@given(args=JSON, kwargs=JSON)
@settings(max_examples=200, deadline=None)
def test_argument_parsing_raises_only_validation_errors(args: Any, kwargs: Any) -> None:
    for parse in (parse_call_result, parse_campaign_command,
                  lambda a, k: parse_enqueue_campaign(a, k, limits=LIMITS)):
        try:
            parse(args if isinstance(args, list) else [args],
                  kwargs if isinstance(kwargs, dict) else {"x": kwargs})
        except ValidationError as exc:
            assert exc.errors


def test_the_vocabularies_match_the_services() -> None:
    from dialer import statuses as st
    from dialer.service.steps.campaign_commands import COMMANDS
    from dialer.task_args import COMMAND_ARGS, CallResultArgs

    assert set(CallResultArgs.model_fields["outcome"].annotation.__args__) == set(st.OUTCOMES)
    assert set(COMMAND_ARGS) == set(COMMANDS)


def test_the_envelope_refuses_too_many_contacts_before_the_pool_sees_them() -> None:
    contacts = [{"phone": "+12125550100"}] * (LIMITS.max_contacts + 1)
    for args, kwargs in (([], {"spec": {}, "contacts": contacts}), ([{}, contacts], {})):
        errors = envelope_errors(CALL_ID, args, kwargs, body_bytes=10, limits=LIMITS,
                                 task="dialer.enqueue_campaign")
        assert [field for field, _ in errors] == ["contacts"]
    assert envelope_errors(CALL_ID, [], {"contacts": contacts}, body_bytes=10, limits=LIMITS,
                           task="dialer.call_result") == []


@pytest.mark.parametrize("depth", [0, 1, 5, 30, 31, 32, 33, 100])
def test_nesting_is_measured_exactly(depth: int) -> None:
    from dialer.task_args import nesting_exceeds

    # nested(d) has d + 1 levels of lists.
    assert nesting_exceeds(nested(depth), 31) is (depth + 1 > 32)
    assert nesting_exceeds({"a": 1, "b": [nested(depth)]}, 33) is (depth + 3 > 34)


def test_update_takes_a_patch_object() -> None:
    parsed = parse_campaign_command([CALL_ID, "update"], {"patch": {"pacing": {"channels": 2}}})
    assert parsed.args == {"patch": {"pacing": {"channels": 2}}}
    for kwargs, message in (({}, "required"), ({"patch": [1]}, "must be an object"),
                            ({"patch": {}, "channels": 2}, "unexpected argument")):
        with pytest.raises(ValidationError) as info:
            parse_campaign_command([CALL_ID, "update"], kwargs)
        assert any(message in m for _, m in info.value.errors), info.value.errors


def test_lead_commands_take_their_lists() -> None:
    parsed = parse_campaign_command([CALL_ID, "requeue"], {"contact_ids": [1, 2]})
    assert parsed.args == {"contact_ids": [1, 2]}
    for command, key in (("requeue", "contact_ids"), ("close", "contact_ids"),
                         ("remove_contacts", "contact_ids"), ("add_contacts", "contacts")):
        for bad in ({}, {key: []}, {key: "1"}):
            with pytest.raises(ValidationError) as exc:
                parse_campaign_command([CALL_ID, command], bad)
            assert key in fields(exc), (command, bad)
    limits = RemoteLimits(max_contacts=2, max_message_bytes=1_000_000)
    with pytest.raises(ValidationError) as exc:
        parse_task_args("dialer.campaign_command", [CALL_ID, "add_contacts"],
                        {"contacts": [{"phone": "+12125550100"}] * 3}, limits=limits)
    assert "at most 2" in fields(exc)["contacts"]
