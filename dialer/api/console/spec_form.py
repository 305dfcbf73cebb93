"""The campaign form's fields and the spec dict they stand for (pure).

Each input of the create/edit form is named by the spec's dotted path
(``schedule.call_window.start``), so a ValidationError's field names its input. The
form posts strings; ``spec_from_form`` turns them into the spec dict the API takes,
changing only what a browser cannot say in JSON (a number, a checkbox, a list) and
leaving whatever does not parse as typed, for the spec's own validation to name. A
blank input is left out: at creation the spec's default (or the pacing preset's value)
applies; in an edit, ``patch`` clears it (null), which the spec refuses for a field that
needs a value, except a pacing number, which is what its hint promises (the preset's
value or the spec's default). An edit sends only what differs from the values the form
was rendered with (kept in one hidden input), never what changed elsewhere since.
``form_values`` is the reverse, for a stored spec shown in the form.

Form values are ``{path: [strings]}``: one string for an input, one per ticked box for a
group of checkboxes, none for a box left unticked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from dialer import editing
from dialer.spec import PRESETS, WEEKDAYS, Pacing, is_iana_zone

Kind = Literal["text", "optional", "int", "float", "bool", "list", "dates", "instant"]
FormValues = dict[str, list[str]]


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    kind: Kind


FIELDS: tuple[Field, ...] = (
    # Targeting
    Field("name", "Name", "text"),
    Field("description", "Description", "optional"),
    Field("agent_id", "Agent", "optional"),
    Field("audience_id", "Audience", "optional"),
    Field("phone_number_ids", "Caller IDs", "list"),
    Field("priority", "Priority", "int"),
    # Schedule
    Field("timezone", "Time zone", "text"),
    Field("scheduled_at", "Start automatically at", "instant"),
    Field("schedule.call_window.start", "Calls from", "text"),
    Field("schedule.call_window.end", "Calls until", "text"),
    Field("schedule.allowed_days", "Days", "list"),
    Field("schedule.start_date", "First day", "optional"),
    Field("schedule.end_date", "Last day", "optional"),
    Field("schedule.holidays", "Holidays", "dates"),
    Field("schedule.holiday_country", "Public holidays of", "optional"),
    Field("schedule.recurrence", "Repeat", "optional"),
    Field("schedule.contact_local_time", "Call in each contact's local time", "bool"),
    # Pacing
    Field("pacing.preset", "Pacing preset", "optional"),
    Field("pacing.channels", "Channels", "int"),
    Field("pacing.calls_per_minute", "Calls per minute at most", "int"),
    Field("pacing.spacing_seconds", "Seconds between calls", "float"),
    Field("pacing.daily_limit", "Calls per day at most", "int"),
    # Call handling
    Field("call_handling.ring_timeout_s", "Ring for (seconds)", "int"),
    Field("call_handling.max_duration_s", "Longest call (seconds)", "int"),
    # Retry
    Field("retry.max_retries", "Retries per contact", "int"),
    Field("retry.retry_delay_minutes", "Minutes before a retry", "float"),
    Field("retry.cooldown_hours", "Hours before calling a contact again", "float"),
    Field("retry.not_picked_cooldown_hours", "Hours to wait after no answer", "float"),
    Field("retry.retry_on_voicemail", "Retry when voicemail answers", "bool"),
    Field("retry.goal_based", "Keep calling until the goal is reached", "bool"),
    # Safety
    Field("safety.respect_dnc", "Skip numbers on the do-not-call list", "bool"),
    Field("safety.business_hours_guard", "Only in business hours where the number is",
          "bool"),
    Field("safety.skip_recently_completed_hours",
          "Skip contacts answered in another campaign within (hours)", "float"),
    Field("safety.circuit_breaker.enabled", "Stop dialing when too many calls fail", "bool"),
    Field("safety.circuit_breaker.failure_rate", "Failure share that trips it (0 to 1)", "float"),
    Field("safety.circuit_breaker.min_calls", "Calls before it may trip", "int"),
    Field("safety.circuit_breaker.window", "Recent calls it looks at", "int"),
)
BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}
LABELS: dict[str, str] = {f.path: f.label for f in FIELDS}

# Errors a spec names on a group of fields (a model's own check): shown at the input
# a person changes to fix it.
ERROR_AT: dict[str, str] = {
    "schedule.call_window": "schedule.call_window.end",
    "schedule": "schedule.end_date",
    "safety.circuit_breaker": "safety.circuit_breaker.min_calls",
}
_INDEX = re.compile(r"\[\d+\]")
_SPLIT = re.compile(r"[\s,;]+")
_INT = re.compile(r"^[+-]?\d{1,12}$")

DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))
PRESET_NAMES = tuple(PRESETS)
RECURRENCES = ("daily", "weekly", "monthly")


def preset_choices() -> list[tuple[str, str]]:
    """(preset, what it sets) for the preset select."""
    out = []
    for name, fields in PRESETS.items():
        parts = [f"{fields['channels']} channels", f"{fields['calls_per_minute']} calls a minute"]
        if fields["daily_limit"]:
            parts.append(f"{fields['daily_limit']} a day")
        out.append((name, f"{name.capitalize()}: {', '.join(parts)}"))
    return out


@cache
def timezones() -> tuple[str, ...]:
    """The zones the time zone select offers (the ones ``is_iana_zone`` accepts)."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


RECURRENCE_CHOICES = [("daily", "Every day"), ("weekly", "Every week"),
                      ("monthly", "Every month")]


def audience_choices(audiences: Iterable[tuple[str, str, int]]) -> list[tuple[str, str]]:
    """(id, what the select shows) per (id, name, contacts) audience."""
    return [(id, f"{name} ({count:,} contact{'' if count == 1 else 's'})")
            for id, name, count in audiences]


def number_choices(numbers: Iterable[tuple[str, str, bool]],
                   chosen: Collection[str]) -> list[tuple[str, str]]:
    """(id, label) per (id, number, active) caller ID: the active ones, and a disabled
    one only while the campaign still names it (so an edit can take it off)."""
    return [(id, number if active else f"{number} (disabled)")
            for id, number, active in numbers if active or id in chosen]


def zone_choices(current: str) -> list[tuple[str, str]]:
    """The time zone select's options; a stored zone the list leaves out (``EST``) is
    kept, so an edit never changes it unasked."""
    zones = timezones()
    return [(zone, zone) for zone in ((current, *zones) if current and current not in zones
                                      else zones)]


def input_id(path: str) -> str:
    return "f-" + path.replace(".", "-").replace("_", "-")


# -- form -> spec ---------------------------------------------------------------------

def spec_from_form(values: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """The spec dict a submitted form stands for (blank inputs left out)."""
    spec: dict[str, Any] = {}
    zone = _first(values.get("timezone"))
    for field in FIELDS:
        raw = [v for v in values.get(field.path, ())]
        value = _parse(field.kind, raw, zone)
        if value is not _BLANK:
            _put(spec, field.path, value)
    return spec


_BLANK: Any = object()


def estimate_spec(values: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """The spec an estimate is computed from: what the form says, named already (a
    forecast does not depend on the name, so an unnamed form is estimated too)."""
    spec = spec_from_form(values)
    if not (isinstance(spec.get("name"), str) and spec["name"].strip()):
        spec["name"] = "unsaved"
    return spec


def _first(raw: Iterable[str] | None) -> str:
    for value in raw or ():
        return value
    return ""


def _parse(kind: Kind, raw: list[str], zone: str) -> Any:
    if kind == "bool":
        return bool(raw)
    if kind == "list":
        return [v for v in raw if v]
    if kind == "dates":
        return [d for v in raw for d in _SPLIT.split(v) if d]
    typed = raw[0] if raw else ""
    if kind == "text":
        return typed if raw else _BLANK
    if kind == "optional":
        return typed or _BLANK
    text = typed.strip()
    if not text:
        return _BLANK
    if kind == "int":
        return int(text) if _INT.match(text) else _number(text)
    if kind == "float":
        return _number(text)
    return _instant(text, zone)


def _number(text: str) -> Any:
    """A number as typed: an int when whole, else a float; unparseable text stays text."""
    if _INT.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text


def _instant(text: str, zone: str) -> str:
    """A wall-clock time typed in the campaign's zone, as ISO 8601 with its offset."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return text
    if local.tzinfo is None:
        if not is_iana_zone(zone):
            return text
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local.isoformat()


def _put(spec: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = spec
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _get(spec: Mapping[str, Any], path: str) -> Any:
    node: Any = spec
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


# -- spec -> form ---------------------------------------------------------------------

def form_values(spec: Mapping[str, Any]) -> FormValues:
    """What the form shows for a spec (a stored one, as the API dumps it)."""
    stored_zone = spec.get("timezone")
    zone = stored_zone if isinstance(stored_zone, str) and is_iana_zone(stored_zone) else "UTC"
    return {field.path: _show(field.kind, _get(spec, field.path), zone) for field in FIELDS}


def _show(kind: Kind, value: Any, zone: str) -> list[str]:
    if kind == "bool":
        return ["on"] if value else []
    if kind in ("list", "dates"):
        items = [str(v) for v in value or ()]
        return items if kind == "list" else (["\n".join(items)] if items else [""])
    if value is None:
        return [""]
    if kind == "float" and isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    if kind == "instant" and isinstance(value, str):
        return [_wall_clock(value, zone)]
    return [str(value)]


def _wall_clock(value: str, zone: str) -> str:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if at.tzinfo is not None:
        at = at.astimezone(ZoneInfo(zone))
    return at.strftime("%Y-%m-%dT%H:%M" if at.second == 0 else "%Y-%m-%dT%H:%M:%S")


def new_form_values(defaults: Mapping[str, Any]) -> FormValues:
    """The empty form: the spec's defaults, the pacing numbers blank (so that a chosen
    preset fills them) and no name, audience or caller ID chosen yet."""
    values = form_values(defaults)
    for path in ("pacing.channels", "pacing.calls_per_minute", "pacing.spacing_seconds",
                 "pacing.daily_limit", "name"):
        values[path] = [""]
    return values


def shown_values(submitted: Mapping[str, list[str]], stored: FormValues,
                 locked: Collection[str]) -> FormValues:
    """What an edit form shows again after a refusal: what the person typed, and the
    stored value of every field they could not change."""
    return {f.path: (stored.get(f.path, [""]) if f.path in locked
                     else list(submitted.get(f.path, [] if f.kind in ("bool", "list")
                                             else [""])))
            for f in FIELDS}


# -- edits ----------------------------------------------------------------------------

SHOWN = "_shown"  # the hidden input holding the values the edit form was rendered with

PACING_NUMBERS = ("pacing.channels", "pacing.calls_per_minute", "pacing.spacing_seconds",
                  "pacing.daily_limit")


def shown_json(values: FormValues) -> str:
    """The rendered values, for the form's hidden ``SHOWN`` input (the template
    autoescapes it)."""
    return json.dumps(values, separators=(",", ":"), sort_keys=True)


def shown_from(posted: Mapping[str, list[str]]) -> FormValues | None:
    """The values an edit form was rendered with (its hidden ``SHOWN`` input), or None
    when it is missing or not what the form writes."""
    try:
        raw = json.loads(_first(posted.get(SHOWN)))
    except ValueError:
        return None
    if not (isinstance(raw, dict) and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
            for k, v in raw.items())):
        return None
    return raw


def promised(path: str, preset: Any) -> Any:
    """What a blank pacing number stands for (the form's hint): the preset's value, or
    the spec's default when no preset is chosen."""
    leaf = path.rsplit(".", 1)[1]
    if isinstance(preset, str) and preset in PRESETS:
        return PRESETS[preset][leaf]
    return Pacing.model_fields[leaf].default


def patch(shown: Mapping[str, Iterable[str]], posted: Mapping[str, Iterable[str]],
          locked: Collection[str] = ()) -> dict[str, Any]:
    """The partial spec an edit sends: every field that is not locked and whose posted
    value differs from the one the form was rendered with (``shown``), so a field
    changed elsewhere since then is left as it now is. A blank field is sent as null
    (cleared; the spec refuses it for a field that needs a value), except a pacing
    number, which is what its hint promises (``promised``). A changed preset starts
    the stored pacing afresh (editing.merge_spec_patch), so then every unlocked pacing
    field is sent as the form shows it."""
    before, after = spec_from_form(shown), spec_from_form(posted)
    out: dict[str, Any] = {}
    for field in FIELDS:
        if field.path in locked:
            continue
        if not _same(field.kind, _get(before, field.path), _get(after, field.path)):
            _put(out, field.path, _get(after, field.path))
    preset = _get(after, "pacing.preset")
    preset_changed = "preset" in out.get("pacing", {})
    for path in PACING_NUMBERS:
        if path in locked or not (preset_changed or _has(out, path)):
            continue
        value = _get(after, path)
        _put(out, path, promised(path, preset) if value is None else value)
    return out


def _has(spec: Mapping[str, Any], path: str) -> bool:
    *parents, leaf = path.split(".")
    node: Any = spec
    for part in parents:
        node = node.get(part) if isinstance(node, Mapping) else None
    return isinstance(node, Mapping) and leaf in node


def _same(kind: Kind, before: Any, after: Any) -> bool:
    if kind == "optional" and before in (None, "") and after in (None, ""):
        return True
    if kind == "list" and isinstance(before, list) and isinstance(after, list):
        return sorted(map(str, before)) == sorted(map(str, after))
    if kind == "instant" and isinstance(before, str) and isinstance(after, str):
        try:
            return bool(datetime.fromisoformat(before.replace("Z", "+00:00"))
                        == datetime.fromisoformat(after.replace("Z", "+00:00")))
        except (ValueError, TypeError):
            return before == after
    if kind == "dates" and isinstance(before, list) and isinstance(after, list):
        return [str(d) for d in before] == [str(d) for d in after]
    if isinstance(before, bool) or isinstance(after, bool):
        return before is after
    return bool(before == after)


def locks(status: str, *, agent_set: bool, has_run: bool) -> dict[str, str]:
    """Per field that cannot change in ``status``: why (dialer/editing.py's own reason,
    as a sentence). The API refuses exactly these fields."""
    out: dict[str, str] = {}
    for field in FIELDS:
        refused = editing.edit_errors(status, [field.path], agent_was_set=agent_set,
                                      has_run=has_run)
        if refused:
            why = refused[0][1]
            out[field.path] = why[:1].upper() + why[1:]
    return out


# -- errors ---------------------------------------------------------------------------

def input_for(error_path: str) -> str | None:
    """The input a ValidationError's field names, or None (shown in the summary only)."""
    path = ERROR_AT.get(error_path, error_path)
    path = _INDEX.sub("", path)
    # An item of a list (phone_number_ids[0], schedule.holidays[2]) is its list's input.
    return path if path in BY_PATH else None


def place_errors(errors: Iterable[tuple[str, str]]
                 ) -> tuple[dict[str, list[str]], list[tuple[str | None, str, str]]]:
    """(messages per input, summary rows of (input or None, what, message))."""
    by_input: dict[str, list[str]] = {}
    summary: list[tuple[str | None, str, str]] = []
    for error_path, message in errors:
        target = input_for(error_path)
        if target is None:
            summary.append((None, error_path, message))
            continue
        by_input.setdefault(target, []).append(message)
        summary.append((target, LABELS[target], message))
    return by_input, summary
