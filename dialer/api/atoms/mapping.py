"""Atoms shapes <-> ours, as pure functions (docs/atoms.md has the table).

No I/O here: the router reads our views (and a campaign's CampaignFacts)
and these functions say how Atoms shows them; the create body becomes the
snake_case dict our CampaignSpec validates.
"""

from __future__ import annotations

import math
import re
from typing import Any

import phonenumbers
from pydantic.alias_generators import to_camel

from dialer.api.atoms.schemas import CampaignCreate, CampaignExtensions
from dialer.statuses import CampaignStatus
from dialer.views import CampaignFacts, CampaignView, EventView, PhoneNumberView

# Our campaign status -> the word Atoms shows. Atoms has no "stopped": its console
# calls a manually stopped campaign "Cancelled", so that is the word used.
ATOMS_STATUS: dict[str, str] = {
    CampaignStatus.DRAFT: "draft",
    CampaignStatus.SCHEDULED: "scheduled",
    CampaignStatus.RUNNING: "running",
    CampaignStatus.PAUSED: "paused",
    CampaignStatus.COMPLETED: "completed",
    CampaignStatus.STOPPED: "cancelled",
    CampaignStatus.FAILED: "failed",
}
OUR_STATUS: dict[str, str] = {atoms: ours for ours, atoms in ATOMS_STATUS.items()}
# Atoms' "processing" is the moment between a start's 202 and "running"; our start is
# done when it answers, so no campaign is ever shown in it (a filter on it finds none).
NEVER_SHOWN = "processing"

# Our dotted spec paths whose Atoms name is not just the camelCase of the path.
_TOP_LEVEL = {"retry.max_retries": "maxRetries", "retry.retry_delay_minutes": "retryDelay"}
_INDEX = re.compile(r"(\[\d+\])")


def atoms_status(ours: str) -> str:
    return ATOMS_STATUS.get(ours, ours)


def our_status(atoms: str | None) -> str | None:
    """The status filter to ask our list for; ``NEVER_SHOWN`` stays as it is."""
    if atoms is None or atoms == NEVER_SHOWN:
        return atoms
    return OUR_STATUS[atoms]


# -- the create body -> our spec ----------------------------------------------------


def spec_from_create(body: CampaignCreate) -> dict[str, Any]:
    """The CampaignSpec dict a create body asks for: only what it says, so our
    defaults fill the rest (and CampaignSpec checks every bound)."""
    spec: dict[str, Any] = {"name": body.name, "agent_id": body.agent_id,
                            "audience_id": body.audience_id}
    for field in ("description", "phone_number_ids", "scheduled_at", "timezone", "priority",
                  "external_id"):
        value = getattr(body, field)
        if value is not None:
            spec[field] = value
    schedule = {field: getattr(body, field) for field in (
        "allowed_days", "holidays", "holiday_country", "start_date", "end_date",
        "contact_local_time", "recurrence") if getattr(body, field) is not None}
    if body.call_window is not None:
        schedule["call_window"] = body.call_window.model_dump(exclude_none=True)
    if schedule:
        spec["schedule"] = schedule
    retry = body.retry.model_dump(exclude_none=True) if body.retry else {}
    spec["retry"] = {**retry, "max_retries": body.max_retries,
                     "retry_delay_minutes": body.retry_delay}
    for section in ("pacing", "call_handling", "safety"):
        model = getattr(body, section)
        if model is not None:
            spec[section] = model.model_dump(exclude_none=True)
    return spec


def atoms_path(path: str) -> str:
    """Our dotted field path (``schedule.call_window.start``) as the create body names it
    (``callWindow.start``): what a 400 says, so the caller finds the field it sent."""
    if path in _TOP_LEVEL:
        return _TOP_LEVEL[path]
    parts = path.split(".")
    if parts[0] == "schedule":
        parts = parts[1:]
    out = []
    for part in parts:
        pieces = _INDEX.split(part)
        out.append("".join(p if _INDEX.fullmatch(p) else to_camel(p) for p in pieces))
    return ".".join(out) or "body"


# -- our spec -> the Atoms shapes --------------------------------------------------


def whole(value: float) -> int | float:
    """Atoms' minutes are integers: a whole number is shown as one."""
    return int(value) if float(value).is_integer() else value


def extensions_from_spec(spec: dict[str, Any]) -> CampaignExtensions:
    """The extension fields of a stored spec, as a create body would carry them."""
    schedule = spec.get("schedule") or {}
    retry = {k: v for k, v in (spec.get("retry") or {}).items()
             if k not in ("max_retries", "retry_delay_minutes")}
    return CampaignExtensions(
        timezone=spec.get("timezone"), priority=spec.get("priority"),
        external_id=spec.get("external_id"), call_window=schedule.get("call_window"),
        allowed_days=schedule.get("allowed_days"), holidays=schedule.get("holidays"),
        holiday_country=schedule.get("holiday_country"),
        start_date=schedule.get("start_date"), end_date=schedule.get("end_date"),
        contact_local_time=schedule.get("contact_local_time"),
        recurrence=schedule.get("recurrence"), pacing=spec.get("pacing"),
        call_handling=spec.get("call_handling"), retry=retry or None,
        safety=spec.get("safety"))


def create_body_from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The create body (camelCase JSON) that asks for ``spec``: the inverse of
    ``spec_from_create`` (tests/unit/test_atoms_mapping.py holds them to it)."""
    retry = spec.get("retry") or {}
    body = {"name": spec["name"], "description": spec.get("description"),
            "agentId": spec.get("agent_id"), "audienceId": spec.get("audience_id"),
            "phoneNumberIds": spec.get("phone_number_ids"),
            "scheduledAt": spec.get("scheduled_at"),
            "maxRetries": retry.get("max_retries"),
            "retryDelay": whole(retry["retry_delay_minutes"])
            if "retry_delay_minutes" in retry else None}
    body.update(extensions_from_spec(spec).model_dump(mode="json", by_alias=True,
                                                      exclude_none=True))
    return {k: v for k, v in body.items() if v is not None}


def campaign_fields(view: CampaignView, facts: CampaignFacts, *, org_id: str) -> dict[str, Any]:
    """The fields every Atoms campaign shape has, by our field names (the schemas give
    them their camelCase)."""
    retry = view.spec.get("retry") or {}
    return {
        "_id": view.id, "name": view.name, "description": view.description,
        "organization": org_id, "created_by": None,
        "participants_count": facts.participants, "status": atoms_status(view.status),
        "max_retries": retry.get("max_retries", 3),
        "retry_delay": whole(retry.get("retry_delay_minutes", 15)),
        "retry_attempts": facts.retry_attempts, "scheduled_at": view.scheduled_at,
        "created_at": view.created_at, "updated_at": view.updated_at,
        "phone_number_ids": view.phone_number_ids, "pause_reason": view.pause_reason,
        "settings": extensions_from_spec(view.spec),
    }


def campaign_created(view: CampaignView, facts: CampaignFacts, *, org_id: str
                     ) -> dict[str, Any]:
    return {**campaign_fields(view, facts, org_id=org_id), "agent_id": view.agent_id,
            "audience_id": view.audience_id}


def campaign_out(view: CampaignView, facts: CampaignFacts, *, org_id: str) -> dict[str, Any]:
    # Atoms' agents are records with names; ours is the agent_id text, shown as both.
    agent = {"_id": view.agent_id, "name": view.agent_id} if view.agent_id else None
    audience = ({"_id": view.audience_id, "name": facts.audience_name}
                if view.audience_id else None)
    return {**campaign_fields(view, facts, org_id=org_id), "agent": agent,
            "audience": audience,
            "paused_at": facts.paused_at if view.status == CampaignStatus.PAUSED else None,
            "cancelled_calls_count": facts.cancelled,
            # The campaign's own columns (0006); the failed event for one failed before.
            "error": view.error or facts.error, "failed_at": view.failed_at or facts.failed_at,
            "executions": [e.model_dump() for e in view.executions]}


def event_out(event: EventView, number: int) -> dict[str, Any]:
    """Events have no id of ours: their position in the campaign's history is one."""
    return {"_id": str(number), "trigger_source": event.source, "event_action": event.action,
            "detail": event.detail, "created_at": event.at, "updated_at": event.at}


def phone_number_out(view: PhoneNumberView) -> dict[str, Any]:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(view.number))
    except phonenumbers.NumberParseException:
        region = None
    return {"_id": view.id, "is_active": view.is_active,
            "attributes": {"provider": view.provider, "phone_number": view.number,
                           "country_code": region}}


def member_data(phone: str, name: str | None, timezone: str | None,
                attributes: dict[str, Any]) -> dict[str, Any]:
    """A contact as an Atoms member's ``data``: its CSV columns, the phone under
    ``phoneNumber`` (the audience's phoneNumberColumnName as we show it)."""
    data = dict(attributes)
    data["phoneNumber"] = phone
    if name is not None:
        data["name"] = name
    if timezone is not None:
        data["timezone"] = timezone
    return data


# -- pagination -----------------------------------------------------------------


def pagination(total: int, *, page: int, offset: int) -> dict[str, Any]:
    """Atoms' page numbers start at 1 and ``offset`` is the page size."""
    pages = math.ceil(total / offset) if total else 0
    return {"total": total, "page": page, "offset": offset, "has_more": page < pages,
            "total_pages": pages}


def page_bounds(*, page: int, offset: int) -> tuple[int, int]:
    """The (skip, take) of a page."""
    return (page - 1) * offset, offset
