"""What each event of the campaign stream carries: one model per event name, used to
write every event's ``data`` and to describe the stream in the OpenAPI document (each
event an object ``{event, data, id?}`` whose ``data`` is JSON of the event's model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from dialer.views import Metrics


class StreamLifecycle(BaseModel):
    id: int
    at: datetime
    source: str
    action: str
    detail: str | None


class StreamPlaced(BaseModel):
    call_id: str
    contact_id: int
    phone: str
    from_number: str | None
    attempt: int
    at: datetime


class StreamOutcome(BaseModel):
    call_id: str
    contact_id: int
    attempt: int
    outcome: str
    duration_s: float | None
    goal_achieved: bool | None
    at: datetime


class StreamRetryScheduled(BaseModel):
    call_id: str
    contact_id: int
    attempt: int
    next_attempt_at: datetime | None


class StreamSkipped(BaseModel):
    id: int
    at: datetime
    reason: str
    detail: str | None
    contact_id: int
    phone: str


class StreamMetrics(BaseModel):
    campaign_id: str
    status: str
    pause_reason: str | None
    at: datetime
    metrics: Metrics


class StreamEnd(BaseModel):
    reason: str


EVENTS: dict[str, type[BaseModel]] = {
    "lifecycle": StreamLifecycle, "placed": StreamPlaced, "outcome": StreamOutcome,
    "retry_scheduled": StreamRetryScheduled, "skipped": StreamSkipped,
    "metrics": StreamMetrics, "end": StreamEnd,
}


def data(event: str, values: dict[str, Any]) -> str:
    """The ``data`` line of ``event``: its model's JSON (unknown keys dropped)."""
    return EVENTS[event].model_validate(values).model_dump_json()


def event_schema() -> dict[str, Any]:
    """One server-sent event, as OpenAPI 3.1 describes an item of ``text/event-stream``."""
    return {"oneOf": [{
        "type": "object", "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": {"$ref": f"#/components/schemas/{model.__name__}"}},
            "id": {"type": "string", "description": "send back as Last-Event-ID to resume"},
            "retry": {"type": "integer"}}}
        for name, model in EVENTS.items()]}
