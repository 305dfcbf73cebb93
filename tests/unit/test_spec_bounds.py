"""Every numeric field of a CampaignSpec has an upper bound and refuses non-finite values;
a spec that passes validation cannot overflow the date arithmetic of the rules.

The table below is the one in docs/spec.md ("Bounds of every field"); the last
test checks that the page names every field listed here.
"""

from __future__ import annotations

import math
import typing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dialer.calendar import CallingRules
from dialer.eligibility import ContactFacts, check_contact, recently_completed_since
from dialer.errors import ValidationError
from dialer.pacing import min_gap_s, next_free_slot_after, plan_slots
from dialer.recurrence import next_period_start
from dialer.retry import decide_after_outcome
from dialer.spec import CampaignSpec, parse_campaign_spec
from dialer.statuses import OUTCOMES

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "spec.md"

# (dotted field, type, smallest accepted, largest accepted)
NUMERIC_BOUNDS: list[tuple[str, type, float, float]] = [
    ("priority", int, -1000, 1000),
    ("pacing.channels", int, 0, 10_000),
    ("pacing.calls_per_minute", int, 1, 6_000),
    ("pacing.spacing_seconds", float, 0, 86_400),
    ("pacing.daily_limit", int, 1, 1_000_000),
    ("call_handling.ring_timeout_s", int, 5, 120),
    ("call_handling.max_duration_s", int, 1, 1_800),
    ("retry.max_retries", int, 0, 10),
    ("retry.retry_delay_minutes", float, 1, 1_440),
    ("retry.cooldown_hours", float, 0, 8_784),
    ("retry.not_picked_cooldown_hours", float, 0, 8_784),
    ("safety.circuit_breaker.failure_rate", float, 0.001, 1),
    ("safety.circuit_breaker.min_calls", int, 1, 10_000),
    ("safety.circuit_breaker.window", int, 1, 10_000),
    ("safety.skip_recently_completed_hours", float, 0, 8_784),
]
FLOAT_FIELDS = [path for path, kind, _, _ in NUMERIC_BOUNDS if kind is float]

DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)
DATE_FIELDS = ["schedule.start_date", "schedule.end_date", "schedule.holidays"]

# Far apart on purpose: UTC+14 and UTC-11 push local dates to both sides of a UTC day.
BREAKER = "safety.circuit_breaker"
EXTREME_ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York")


def nested(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``a.b``, inside a spec that is valid otherwise."""
    out: Any = value
    for key in reversed(path.split(".")):
        out = {key: out}
    return {"name": "bounds", **out}


def rejected_fields(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_campaign_spec(data, now=NOW)
    return info.value.fields


def _numeric_leaves(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, FieldInfo) of every int or float field, nested models included."""
    out = []
    for name, info in model.model_fields.items():
        args = typing.get_args(info.annotation) or (info.annotation,)
        sub = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if sub:
            out += _numeric_leaves(sub[0], f"{prefix}{name}.")
        elif any(a in (int, float) for a in args):
            out.append((f"{prefix}{name}", info))
    return out


def test_every_numeric_field_of_the_spec_has_an_upper_bound_listed_here():
    leaves = dict(_numeric_leaves(CampaignSpec))
    assert set(leaves) == {path for path, *_ in NUMERIC_BOUNDS}
    for path, info in leaves.items():
        assert any(getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None
                   for m in info.metadata), f"{path} has no upper bound"


@pytest.mark.parametrize(("path", "kind", "low", "high"), NUMERIC_BOUNDS)
def test_both_ends_of_every_bound_are_accepted(path, kind, low, high):
    for value in (low, high):
        data = nested(path, kind(value))
        if path.startswith(BREAKER):  # min_calls may not exceed the window
            data["safety"]["circuit_breaker"] = {"min_calls": 1, "window": 10_000,
                                                 **data["safety"]["circuit_breaker"]}
        spec = parse_campaign_spec(data, now=NOW)
        got: Any = spec
        for key in path.split("."):
            got = getattr(got, key)
        assert got == value


@pytest.mark.parametrize(("path", "kind", "high"),
                         [(p, k, h) for p, k, _, h in NUMERIC_BOUNDS])
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_value_above_the_bound_is_refused_naming_the_field(path, kind, high, data):
    if kind is int:
        value: Any = data.draw(st.integers(min_value=int(high) + 1, max_value=10**30))
    else:
        value = data.draw(st.floats(min_value=high, exclude_min=True, allow_infinity=False,
                                    allow_nan=False))
    assert path in rejected_fields(nested(path, value))


@pytest.mark.parametrize("path", [p for p, *_ in NUMERIC_BOUNDS])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "Infinity", "-Infinity",
                                   "NaN", "inf", "1e999"])
def test_a_non_finite_value_is_refused_naming_the_field(path, value):
    assert path in rejected_fields(nested(path, value))


@pytest.mark.parametrize("path", DATE_FIELDS)
@pytest.mark.parametrize("day", [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1),
                                 date(9999, 12, 31)])
def test_a_date_outside_the_supported_years_is_refused_naming_the_field(path, day):
    value: Any = [day.isoformat()] if path == "schedule.holidays" else day.isoformat()
    fields = rejected_fields(nested(path, value))
    assert any(f.startswith(path) for f in fields), fields


@pytest.mark.parametrize("instant", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                     "2101-01-01T00:00:00+00:00"])
def test_a_far_scheduled_at_is_refused_naming_the_field(instant):
    assert "scheduled_at" in rejected_fields({"name": "far", "scheduled_at": instant})


def test_lists_are_bounded_too():
    holidays = [(DATE_MIN + timedelta(days=i)).isoformat() for i in range(1001)]
    assert "schedule.holidays" in rejected_fields(nested("schedule.holidays", holidays))
    ids = [f"id-{i}" for i in range(1001)]
    assert "phone_number_ids" in rejected_fields({"name": "ids", "phone_number_ids": ids})
    assert "agent_id" in rejected_fields({"name": "agent", "agent_id": "a" * 201})


# -- accepted specs never overflow the rules ---------------------------------------------


def _edge(low: float, high: float, kind: type) -> st.SearchStrategy[Any]:
    inner = (st.integers(int(low), int(high)) if kind is int
             else st.floats(low, high, allow_nan=False, allow_infinity=False))
    return st.one_of(st.just(kind(low)), st.just(kind(high)), inner)


def _day() -> st.SearchStrategy[date]:
    return st.one_of(st.just(DATE_MIN), st.just(DATE_MAX), st.dates(DATE_MIN, DATE_MAX))


WILD_NUMBERS = (999_999_999, 10**18, 1e308, math.inf)
WILD_DAYS = (date(1, 1, 1), date(9999, 12, 31))


@st.composite
def extreme_specs(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """A spec at the edges of its bounds, with at most one field pushed far beyond its
    bound (the kind a script or a stored row can carry): (data, that field or None)."""
    wild = draw(st.sampled_from([None, *(p for p, *_ in NUMERIC_BOUNDS), *DATE_FIELDS]))
    data: dict[str, Any] = {"name": "extreme", "timezone": draw(st.sampled_from(EXTREME_ZONES))}
    for path, kind, low, high in NUMERIC_BOUNDS:
        if path == "safety.circuit_breaker.min_calls":
            continue  # must not exceed the window: drawn below
        node = data
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = (draw(st.sampled_from(WILD_NUMBERS)) if path == wild
                      else draw(_edge(low, high, kind)))
    breaker = data["safety"]["circuit_breaker"]
    breaker["min_calls"] = (draw(st.sampled_from(WILD_NUMBERS)) if wild == f"{BREAKER}.min_calls"
                            else draw(st.integers(1, max(1, min(breaker["window"], 10_000)))))
    if wild == f"{BREAKER}.window":
        breaker["min_calls"] = 1
    first, last = sorted([draw(_day()), draw(_day())])
    far = draw(st.sampled_from(WILD_DAYS))
    holidays = draw(st.lists(_day(), max_size=3))
    if wild == "schedule.holidays":
        holidays.append(far)
    data["schedule"] = {
        "start_date": (far if wild == "schedule.start_date"
                       else first if draw(st.booleans()) else None),
        "end_date": far if wild == "schedule.end_date" else last if draw(st.booleans()) else None,
        "holidays": holidays,
        "holiday_country": draw(st.sampled_from([None, "US"])),
        "recurrence": draw(st.sampled_from([None, "daily", "weekly", "monthly"])),
        "allowed_days": draw(st.lists(st.sampled_from(["mon", "sat", "sun"]), min_size=1)),
    }
    data["safety"]["business_hours_guard"] = draw(st.booleans())
    return data, wild


def _instants() -> st.SearchStrategy[datetime]:
    return st.one_of(
        st.sampled_from([datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, 23, 59,
                                                                    tzinfo=UTC)]),
        st.datetimes(datetime(2000, 1, 1), datetime(2100, 12, 31), timezones=st.just(UTC)))


@settings(max_examples=80, deadline=None)
@given(drawn=extreme_specs(), now=_instants())
def test_an_accepted_spec_never_overflows_the_date_arithmetic(
        drawn: tuple[dict[str, Any], str | None], now: datetime):
    data, wild = drawn
    try:
        spec = parse_campaign_spec(data, now=NOW)
    except ValidationError as exc:
        # Only the field pushed beyond its bound may be refused.
        assert wild is not None and all(f.startswith(wild) for f in exc.fields), exc
        return
    # Retry policy: every outcome, every cooldown.
    for outcome in OUTCOMES:
        decision = decide_after_outcome(outcome=outcome, goal_achieved=False, attempts_made=1,
                                        policy=spec.retry, ended_at=now)
        assert decision.not_before is None or decision.not_before >= now
    # Calendar and eligibility, read in zones on both sides of UTC.
    rules = CallingRules(schedule=spec.schedule, campaign_timezone=spec.timezone,
                         business_hours_guard=spec.safety.business_hours_guard)
    for zone in EXTREME_ZONES:
        facts = ContactFacts(zones=(zone,), guard_zones=(zone,))
        verdict = check_contact(now=now, rules=rules, facts=facts,
                                respect_dnc=spec.safety.respect_dnc)
        assert verdict.until is None or verdict.until >= now
    # The window of "recently completed" looks back from now.
    since = recently_completed_since(now, spec.safety.skip_recently_completed_hours)
    assert since is None or since <= now
    # Pacing: a tick's slots and the gap carried to the next tick.
    gap_s = min_gap_s(spec.pacing)
    slots = plan_slots(pacing=spec.pacing, budget=min(spec.pacing.channels, 200), now=now,
                       next_free_slot=now + timedelta(seconds=gap_s), horizon_s=7200)
    next_free_slot_after(slots, spec.pacing)
    # Recurrence: the next period of a run that started now.
    if spec.schedule.recurrence:
        assert next_period_start(spec.schedule.recurrence, started=now, now=now,
                                 zone=spec.zone) > now


def test_the_docs_list_every_bound():
    text = DOCS.read_text()
    for path in [p for p, *_ in NUMERIC_BOUNDS] + DATE_FIELDS + ["scheduled_at"]:
        assert f"`{path}`" in text, f"docs/spec.md does not list {path}"
