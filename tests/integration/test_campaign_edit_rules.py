"""The edit rules end to end (docs/contract.md §2b): hypothesis draws a campaign status
and a patch of one to three spec fields, sometimes with an invalid value or a current
value restated in another form (the same instant at another offset, the same days or
holidays in another order), and the real ``update_campaign`` on the real PostgreSQL
must accept it exactly when every changed field may change in that status
(dialer/editing.py's table) and every value is valid; a refusal names every offending
field and changes nothing; an acceptance stores the new values and records one
``updated`` event naming exactly the changed fields.

The oracle below is written from the contract, not from the code under test: a patch
merges into the stored spec, a new ``pacing.preset`` starts the pacing afresh and fills
what the patch leaves out, a value restated changes nothing. Every campaign is fresh
and put in its status by the client's own verbs (started at once or after a schedule);
``completed`` and ``failed`` by the engine's own steps (no worker).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dialer import editing
from dialer.client import DialerClient
from dialer.errors import ValidationError
from dialer.service.steps.campaign_state import complete_if_done, fail
from dialer.spec import PRESETS
from dialer.statuses import CampaignStatus as C
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
RESTATE = object()  # in a drawn patch: the campaign's current value, in another form


@dataclass(frozen=True)
class Ctx:
    """What valid values refer to: the clock and the ids that exist."""

    now: datetime
    audience: str  # the campaigns' own
    other_audience: str
    number: str


Values = Callable[[Ctx], st.SearchStrategy[Any]]


def const(*values: Any) -> Values:
    return lambda _: st.sampled_from(values)


def iso(at: datetime) -> str:
    """An instant as the stored spec writes it (pydantic's JSON form)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hours_from_now(hours: st.SearchStrategy[int]) -> Values:
    return lambda ctx: hours.map(lambda h: iso(ctx.now.replace(microsecond=0)
                                               + timedelta(hours=h)))


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# field -> (valid values, invalid values). Valid values are in the form the stored spec
# keeps them (so "unchanged" is plain equality) and valid together: any window start
# is before any end, any start date before any end date.
FIELDS: dict[str, tuple[Values, Values]] = {
    "name": (const("test campaign", "renamed", "x" * 40), const("", "   ", "x" * 41)),
    "description": (const(None, "about"), const(5)),
    "agent_id": (const(None, "agent-1", "agent-2"), const("a" * 201)),
    "audience_id": (lambda ctx: st.sampled_from([ctx.audience, ctx.other_audience]),
                    const(NO_SUCH_ID, "not-an-id")),
    "phone_number_ids": (lambda ctx: st.sampled_from([[], [ctx.number]]),
                         const([NO_SUCH_ID])),
    "scheduled_at": (lambda ctx: st.one_of(st.none(), hours_from_now(st.integers(1, 72))(ctx)),
                     hours_from_now(st.integers(-72, -1))),
    "timezone": (const("America/New_York", "Europe/Paris", "UTC"), const("Mars/Base")),
    "priority": (lambda _: st.integers(-3, 3), const(5000, -5000)),
    "external_id": (const(None, "ext-1"), const("e" * 201)),
    "schedule.call_window.start": (const("07:00", "08:30", "09:00"), const("25:00", "9am")),
    "schedule.call_window.end": (const("17:00", "18:00", "20:00"), const("24:00", "")),
    "schedule.allowed_days": (
        lambda _: st.lists(st.sampled_from(days), min_size=1, unique=True).map(
            lambda picked: sorted(picked, key=days.index)),
        const([], ["someday"])),
    "schedule.holidays": (const([], ["2026-12-25"], ["2026-12-25", "2027-01-01"]),
                          const(["1990-01-01"])),
    "schedule.start_date": (const(None, "2026-01-05", "2026-03-02"), const("1999-12-31")),
    "schedule.end_date": (const(None, "2026-04-30", "2026-12-31"), const("2101-01-01")),
    "schedule.recurrence": (const(None, "daily", "weekly", "monthly"), const("hourly")),
    "pacing.preset": (const(None, "conservative", "balanced", "aggressive"), const("turbo")),
    "pacing.channels": (lambda _: st.integers(0, 10), const(-1, 10_001)),
    "pacing.calls_per_minute": (lambda _: st.one_of(st.none(), st.integers(1, 60)), const(0)),
    "pacing.spacing_seconds": (const(0.0, 1.5, 2.0), const(-1.0)),
    "pacing.daily_limit": (lambda _: st.one_of(st.none(), st.integers(1, 100)), const(0)),
    "call_handling.ring_timeout_s": (lambda _: st.integers(5, 120), const(4, 121)),
    "call_handling.max_duration_s": (lambda _: st.integers(1, 1800), const(0)),
    "retry.max_retries": (lambda _: st.integers(0, 10), const(11, -1)),
    "retry.retry_delay_minutes": (const(1.0, 15.0), const(0.0)),
    "safety.respect_dnc": (lambda _: st.booleans(), const("maybe")),
    "safety.circuit_breaker.min_calls": (lambda _: st.integers(1, 50), const(0)),
}
FLOATS = ("pacing.spacing_seconds", "retry.retry_delay_minutes")
PACING_DEFAULTS = {"preset": None, "channels": 1, "calls_per_minute": None,
                   "spacing_seconds": 0.0, "daily_limit": None}


@dataclass
class Stack:
    client: DialerClient
    ctx_ids: tuple[str, str, str, str]  # audience, other audience, empty audience, number

    def ctx(self) -> Ctx:
        audience, other, _, number = self.ctx_ids
        return Ctx(self.client.now(), audience, other, number)

    def campaign_in(self, status: str, *, with_agent: bool, scheduled_first: bool) -> str:
        """A fresh campaign in ``status``, put there as an operator (or the engine) does;
        ``scheduled_first``: created scheduled (a draft never is)."""
        client = self.client
        audience, _, empty, _ = self.ctx_ids
        overrides: dict[str, Any] = {"agent_id": "agent-1" if with_agent else None,
                                     # two, so that a restatement has an order to change
                                     "schedule": {"holidays": ["2026-12-25", "2027-01-01"]}}
        if status == C.SCHEDULED or (scheduled_first and status != C.DRAFT):
            # As a remote sender writes it (stored as ...Z).
            overrides["scheduled_at"] = (client.now() + timedelta(days=1)).isoformat()
        if status == C.COMPLETED:
            audience = empty  # nothing to dial: done as soon as the engine looks
        campaign_id = client.create_campaign(campaign_spec(audience, **overrides)).id
        if status in (C.RUNNING, C.PAUSED, C.COMPLETED, C.FAILED):
            client.start(campaign_id)
        if status == C.PAUSED:
            client.pause(campaign_id)
        elif status == C.STOPPED:
            client.stop(campaign_id)
        elif status == C.COMPLETED:
            with client.runtime.transaction() as session:
                assert complete_if_done(session, campaign_id, now=client.now())
        elif status == C.FAILED:
            with client.runtime.transaction() as session:
                assert fail(session, campaign_id, now=client.now(), reason="provider_refused",
                            detail="the provider refuses every call")
        assert client.get(campaign_id).campaign.status == status
        return campaign_id


@pytest.fixture
def stack(client: DialerClient) -> Iterator[Stack]:
    # Made once for all the examples: each example makes its own campaign.
    audience = client.create_audience("people", ny_contacts([["answered"]] * 3)).id
    other = client.create_audience("others", ny_contacts([["answered"]] * 2, start=10)).id
    empty = client.create_audience("nobody", []).id
    number = client.add_phone_number("+12125550100").id
    yield Stack(client, (audience, other, empty, number))


# -- the oracle ----------------------------------------------------------------------

def nest(flat: dict[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        node = patch
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return patch


def restated(field: str, value: Any) -> Any:
    """``value`` (as stored) in another form that the spec reads as the same value."""
    if field == "scheduled_at" and value is not None:
        return instant(value).astimezone(ZoneInfo("America/New_York")).isoformat()
    if field == "schedule.allowed_days":
        return [*reversed(value), value[0]]  # another order, a day twice
    if field == "schedule.holidays":
        return [*reversed(value), *value[:1]]  # another order, a date twice
    if field in FLOATS and value == int(value):
        return int(value)
    return value


def canonical(field: str, value: Any) -> Any:
    """A drawn value in the form the stored spec keeps (the instant stays as given)."""
    if field == "schedule.allowed_days" and isinstance(value, list):
        return sorted(set(value), key=days.index)
    if field == "schedule.holidays" and isinstance(value, list):
        return sorted(set(value))  # ISO dates sort as the dates do
    if field in FLOATS and isinstance(value, int):
        return float(value)
    return value


def same_value(field: str, drawn: Any, stored: Any) -> bool:
    if field == "scheduled_at" and None not in (drawn, stored):
        return bool(instant(drawn) == instant(stored))
    return bool(canonical(field, drawn) == stored)


def comparable(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec with its start as an instant: the stored form may keep a given offset."""
    at = spec.get("scheduled_at")
    return {**spec, "scheduled_at": at if at is None else instant(at)}


def expected_spec(before: dict[str, Any], flat: dict[str, Any]) -> dict[str, Any]:
    """The stored spec after a valid ``flat`` patch, by the contract's words."""
    after = copy.deepcopy(before)
    flat = {field: canonical(field, value) for field, value in flat.items()}
    flat_pacing = {k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith("pacing.")}
    for path, value in flat.items():
        if not path.startswith("pacing."):
            *parents, leaf = path.split(".")
            node = after
            for key in parents:
                node = node[key]
            node[leaf] = value
    # Another preset starts the pacing afresh; a preset fills what is unset or null.
    afresh = "preset" in flat_pacing and flat_pacing["preset"] != before["pacing"]["preset"]
    pacing = {**({} if afresh else before["pacing"]), **flat_pacing}
    if pacing.get("preset") is not None:
        pacing = {**PRESETS[pacing["preset"]],
                  **{k: v for k, v in pacing.items() if v is not None}}
    pacing = {**PACING_DEFAULTS, **pacing}
    after["pacing"] = pacing
    return after


def leaves_that_differ(before: Any, after: Any, prefix: str = "") -> set[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out: set[str] = set()
        for key in before.keys() | after.keys():
            path = f"{prefix}.{key}" if prefix else key
            out |= leaves_that_differ(before.get(key), after.get(key), path)
        return out
    return set() if before == after else {prefix}


def value_at(spec: dict[str, Any], path: str) -> Any:
    node: Any = spec
    for key in path.split("."):
        node = node[key]
    return node


def names(error_field: str, field: str) -> bool:
    """Whether an error's dotted path names ``field`` (or an item or part of it)."""
    return error_field == field or error_field.startswith((f"{field}.", f"{field}["))


# -- the property --------------------------------------------------------------------

@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_an_edit_is_accepted_exactly_when_the_table_and_the_spec_allow_it(stack: Stack,
                                                                          data: st.DataObject
                                                                          ) -> None:
    client = stack.client
    status = data.draw(st.sampled_from([str(s) for s in C]), label="status")
    with_agent = status != C.DRAFT or data.draw(st.booleans(), label="with_agent")
    scheduled_first = status not in (C.DRAFT, C.SCHEDULED) and data.draw(
        st.booleans(), label="scheduled_first")
    fields = data.draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=3,
                                unique=True), label="fields")
    ctx = stack.ctx()
    flat: dict[str, Any] = {}
    invalid: set[str] = set()
    for field in fields:
        valid_values, invalid_values = FIELDS[field]
        kind = data.draw(st.sampled_from(["valid", "valid", "restated", "invalid"]),
                         label=f"{field} value")
        if kind == "invalid":
            invalid.add(field)
            flat[field] = data.draw(invalid_values(ctx), label=field)
        else:
            flat[field] = RESTATE if kind == "restated" else data.draw(valid_values(ctx),
                                                                       label=field)

    campaign_id = stack.campaign_in(status, with_agent=with_agent,
                                    scheduled_first=scheduled_first)
    before_view = client.get(campaign_id).campaign
    before = before_view.spec
    flat = {field: restated(field, value_at(before, field)) if value is RESTATE else value
            for field, value in flat.items()}
    before_events = client.events(campaign_id)
    before_participants = client.participants(campaign_id)

    has_run = status not in (C.DRAFT, C.SCHEDULED)
    preset_changes = "pacing.preset" in flat and flat["pacing.preset"] != before["pacing"][
        "preset"]
    if invalid:
        after = None
        changing = {f for f in flat if f in invalid
                    or not same_value(f, flat[f], value_at(before, f))}
    else:
        after = expected_spec(before, flat)
        changing = leaves_that_differ(comparable(before), comparable(after))
    offending = invalid | {f for f, _ in editing.edit_errors(
        status, sorted(changing), agent_was_set=before_view.agent_id is not None,
        has_run=has_run)}
    agent = flat.get("agent_id", before["agent_id"])
    if "scheduled_at" in changing and flat["scheduled_at"] is not None and agent is None:
        offending.add("agent_id")  # a campaign waits for a start only with an agent

    try:
        view = client.update_campaign(campaign_id, nest(flat))
    except ValidationError as refusal:
        event(f"{status}: refused")
        assert offending, f"refused a valid, allowed edit: {refusal.errors}"
        named = set(refusal.fields)
        for field in offending:
            assert any(names(n, field) for n in named), f"{field} not named: {refusal.errors}"
        for n in named:
            # A new preset would change the pacing fields it fills: those may be named too.
            assert any(names(n, field) for field in offending) or (
                preset_changes and n.startswith("pacing.")), f"{n} named: {refusal.errors}"
        assert client.get(campaign_id).campaign == before_view
        assert client.events(campaign_id) == before_events
        assert client.participants(campaign_id) == before_participants
        return

    event(f"{status}: accepted")
    assert not offending, f"accepted although {sorted(offending)} should be refused"
    assert after is not None
    assert comparable(view.spec) == comparable(after)
    assert comparable(client.get(campaign_id).campaign.spec) == comparable(after)
    new_events = client.events(campaign_id)[len(before_events):]
    updated = [e for e in new_events if e.action == "updated"]
    if not changing:
        assert new_events == [], "a patch that changes nothing records nothing"
        return
    [recorded] = updated
    assert set((recorded.detail or "").split(", ")) == changing
    start_before, start_after = (comparable(spec)["scheduled_at"] for spec in (before, after))
    move = editing.schedule_move(status, start_before, start_after)
    assert [e.action for e in new_events] == ["updated"] + (
        [] if move is None else ["scheduled" if move != "unschedule" else "unscheduled"])
    assert view.status == {"schedule": C.SCHEDULED, "unschedule": C.DRAFT}.get(
        move or "", status)

