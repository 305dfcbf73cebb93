"""The campaign's server-sent event stream (dialer.api.stream says what it sends)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.api.stream import SHUTDOWN_GRACE_S, StreamOptions, campaign_events
from dialer.api.stream_events import event_schema
from dialer.service import orgs
from dialer.settings import Settings

router = APIRouter(tags=["campaigns"])

EXAMPLE = """id: e3.s0.p1772460000123456.o-
event: placed
data: {"call_id": "c1a2...", "contact_id": 1, "phone": "+14155550123", \
"from_number": "+14155550100", "attempt": 1, "at": "2026-03-02T09:00:00-05:00"}

event: metrics
data: {"campaign_id": "5f0c...", "status": "running", "pause_reason": null, \
"at": "2026-03-02T09:00:02-05:00", "metrics": {"calls_placed": 1, "...": "..."}}

"""


@router.get("/campaigns/{campaign_id}/stream", summary="Watch a campaign live (server-sent events)",
            description="Events `lifecycle`, `placed`, `outcome`, `retry_scheduled`, `skipped` "
                        "(each with an `id`: send it back as `Last-Event-ID` to resume), "
                        "`metrics` every DIALER_API_STREAM_METRICS_S seconds, and `end`. "
                        "`until_finished=true` closes the stream once the campaign is "
                        "completed, stopped or failed.",
            response_class=EventSourceResponse,
            responses={200: {"description": "An event stream", "content": {
                "text/event-stream": {"schema": event_schema(), "example": EXAMPLE}}},
                **responses(404)})
async def stream(
    campaign_id: str, request: Request, client: Client,
    until_finished: Annotated[bool, Query(
        description="close after the campaign reaches a terminal status")] = False,
    last_event_id: Annotated[str | None, Header(
        description="resume after this event id", max_length=200)] = None,
) -> EventSourceResponse:
    # The campaign must be this organisation's before anything streams: 404 otherwise.
    await run_in_threadpool(client.get, campaign_id)
    settings: Settings = request.app.state.settings
    shutdown = anyio.Event()
    key = request.headers.get("authorization", "").partition(" ")[2]

    def still_authorised() -> bool:
        org = orgs.authenticate(client.runtime, key)
        return org is not None and org.id == client.org.id

    events = campaign_events(
        client, campaign_id, last_event_id=last_event_id,
        options=StreamOptions(poll_s=settings.api_stream_poll_s,
                              metrics_s=settings.api_stream_metrics_s,
                              until_finished=until_finished,
                              still_authorised=still_authorised),
        is_disconnected=request.is_disconnected, shutdown=shutdown)
    # On shutdown the generator gets a moment to say so (an `end` event) before it
    # is cancelled, so the response ends properly instead of being cut off.
    return EventSourceResponse(events, ping=settings.api_stream_heartbeat_s,
                               shutdown_event=shutdown, shutdown_grace_period=SHUTDOWN_GRACE_S)
