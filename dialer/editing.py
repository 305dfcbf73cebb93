"""Editing a campaign (docs/contract.md §2b, pure): which spec field may change in
which status, how a patch merges into the stored spec, and what a change of
``scheduled_at`` does to the status.

A patch is a partial spec: objects merge key by key, any other value (lists
included) replaces the stored one, and ``null`` sets the field to null, which
clears an optional field and is refused, by the spec's own validation, for one
that needs a value. Only the fields whose value actually changes are checked
against the table, so restating a current value is never refused.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from dialer.statuses import CampaignStatus as C

# Never changes after creation: remote senders find the campaign by it (an edited
# external_id would let a re-sent dialer.enqueue_campaign create a second one).
FIXED = {"external_id": "never changes after creation"}

# The one exception to "fixed": a campaign created without an agent gets one while it
# is a draft (or scheduled); once set, the agent never changes (as in Atoms).
AGENT = "agent_id"
AGENT_SETTABLE = frozenset({C.DRAFT, C.SCHEDULED})
# The participants are enrolled from the audience: a campaign that has run has history
# with them, so its audience stays (contacts are added to it instead).
AUDIENCE = "audience_id"

EVERYTHING = "*"
PACING_NOW = ("pacing.preset", "pacing.channels", "pacing.calls_per_minute",
              "pacing.spacing_seconds", "pacing.daily_limit")

# status -> the fields (a name covers everything under it) that may change in it.
EDITABLE: dict[str, frozenset[str]] = {
    C.DRAFT: frozenset({EVERYTHING}),
    C.SCHEDULED: frozenset({EVERYTHING}),
    # timezone is the schedule's: the zone its window and dates are read in.
    C.PAUSED: frozenset({"name", "description", "timezone", "schedule", "pacing", "retry",
                         "call_handling", "safety"}),
    # Read again by the next tick (the spec cache follows the stored spec's digest).
    C.RUNNING: frozenset({*PACING_NOW, "schedule.end_date"}),
    C.COMPLETED: frozenset(),
    C.STOPPED: frozenset(),
    C.FAILED: frozenset(),
}
TERMINAL = frozenset(status for status, fields in EDITABLE.items() if not fields)


def editable(status: str, field: str) -> bool:
    """Whether the table lets ``field`` (a dotted path) change in ``status``."""
    allowed = EDITABLE.get(status, frozenset())
    if EVERYTHING in allowed:
        return True
    parts = field.split(".")
    return any(".".join(parts[:n]) in allowed for n in range(1, len(parts) + 1))


def edit_errors(status: str, changed: Iterable[str], *, agent_was_set: bool,
                has_run: bool) -> list[tuple[str, str]]:
    """(field, why) for every changed field that may not change now."""
    errors: list[tuple[str, str]] = []
    for field in changed:
        top = field.split(".", 1)[0]
        if status in TERMINAL or status not in EDITABLE:
            errors.append((field, f"cannot change a campaign that is {status}"))
        elif top in FIXED:
            errors.append((field, FIXED[top]))
        elif top == AGENT:
            if agent_was_set:
                errors.append((field, "the agent never changes once set"))
            elif status not in AGENT_SETTABLE:
                errors.append((field, f"cannot change while {status}"))
        elif top == AUDIENCE and editable(status, field) and has_run:
            errors.append((field, "cannot change once the campaign has run; "
                                  "add contacts to its audience instead"))
        elif not editable(status, field):
            errors.append((field, f"cannot change while {status}"))
    return errors


def merge_patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` merged in: objects merge, other values replace (a new
    object; neither argument is changed)."""
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_spec_patch(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A patch merged into a stored spec. Choosing another pacing preset starts the
    pacing afresh, so that the preset fills the pacing fields the patch leaves out
    (as it does at creation) instead of the stored values winning."""
    pacing = patch.get("pacing")
    stored_pacing = stored.get("pacing")
    if (isinstance(pacing, dict) and "preset" in pacing and isinstance(stored_pacing, dict)
            and pacing["preset"] != stored_pacing.get("preset")):
        stored = {**stored, "pacing": {}}
    return merge_patch(stored, patch)


def changed_fields(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves whose value differs (a list is one leaf), sorted."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in before.keys() | after.keys():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                if before.get(key, _ABSENT) != after.get(key, _ABSENT):
                    out.append(path)
            else:
                out.extend(changed_fields(before[key], after[key], path))
        return sorted(out)
    return [] if before == after else [prefix]


_ABSENT = object()


def schedule_move(status: str, before: Any, after: Any) -> str | None:
    """What a change of ``scheduled_at`` does: ``schedule`` (a draft now waits for
    it), ``reschedule`` (a scheduled campaign's start moves), ``unschedule`` (cleared:
    back to draft), or None."""
    if before == after or status not in (C.DRAFT, C.SCHEDULED):
        return None
    if after is None:
        return "unschedule" if status == C.SCHEDULED else None
    return "schedule" if status == C.DRAFT else "reschedule"
