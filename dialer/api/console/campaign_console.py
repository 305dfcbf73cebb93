"""The console of one campaign, live (issue 15): will it dial and why not, the actions
its status allows, the channel gauge, counters, outcomes, the breaker, and the event
log pushed over server-sent events (``live_stream`` renders what the stream sends)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from dialer.api.console import live_stream
from dialer.api.console.render import is_htmx, page, redirect, templates
from dialer.api.console.session import PATH, Console, Session
from dialer.api.stream import SHUTDOWN_GRACE_S, StreamOptions, campaign_events
from dialer.errors import InvalidTransition, ValidationError
from dialer.settings import Settings

router = APIRouter()
templates.env.globals.update(console_actions=live_stream.actions_for,
                             console_can_allocate=live_stream.can_allocate,
                             log_clock=live_stream.clock)

# What a notice after an action says (the redirect names the action, not the text).
DONE = {"start": "Started.", "pause": "Paused.", "resume": "Resumed.", "stop": "Stopped.",
        "channels": "Channels allocated.", "reset-breaker":
        "Breaker reset. The campaign stays paused until you resume it."}
COMMANDS = {"start": "start", "pause": "pause", "resume": "resume", "stop": "stop",
            "reset-breaker": "reset_breaker"}
REFUSED = {"start": "Start", "pause": "Pause", "resume": "Resume", "stop": "Stop",
           "channels": "Allocating channels", "reset-breaker": "Reset breaker"}


def _url(campaign_id: str) -> str:
    return f"{PATH}/campaigns/{campaign_id}"


def _console_page(request: Request, console: Console, campaign_id: str, *,
                  status_code: int = 200, **extra: Any) -> HTMLResponse:
    detail = console.client.get(campaign_id)
    zone = detail.campaign.timezone
    log = live_stream.recent_log(console.client, campaign_id, zone)
    context: dict[str, Any] = {
        "campaign": detail.campaign, "detail": detail, "section": "console",
        "readiness": console.client.readiness(campaign_id), "log": log, "zone": zone,
        "state": live_stream.state_of(detail.campaign), "notice": None, "error": None,
        "channels_error": None, **extra}
    return page(request, "campaigns/console.html", console, status_code=status_code,
                **context)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_console(request: Request, campaign_id: str, console: Session,
                     done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    return _console_page(request, console, campaign_id, notice=DONE.get(done or ""))


def _refused(request: Request, console: Console, campaign_id: str, action: str,
             exc: Exception) -> HTMLResponse:
    # A boosted form (htmx) swaps in only a 2xx answer, and the address bar shows the
    # console, not the action's URL (a reload would GET it); a plain form gets the status.
    htmx = is_htmx(request)
    status = 200 if htmx else (422 if isinstance(exc, ValidationError) else 409)
    message = f"{REFUSED[action]} refused: {exc}"
    errors = {"channels_error": message} if action == "channels" else {"error": message}
    response = _console_page(request, console, campaign_id, status_code=status, **errors)
    if htmx:
        response.headers["HX-Push-Url"] = _url(campaign_id)
    return response


def _command_route(action: str, command: str) -> None:
    def run(request: Request, campaign_id: str, console: Session) -> Response:
        try:
            getattr(console.client, command)(campaign_id)
        except (InvalidTransition, ValidationError) as exc:
            return _refused(request, console, campaign_id, action, exc)
        return redirect(f"{_url(campaign_id)}?done={action}")

    router.add_api_route(f"/campaigns/{{campaign_id}}/{action}", run, methods=["POST"],
                         response_class=HTMLResponse, name=f"campaign_{command}")


for _action, _command in COMMANDS.items():
    _command_route(_action, _command)


@router.post("/campaigns/{campaign_id}/channels", response_class=HTMLResponse)
def allocate_channels(request: Request, campaign_id: str, console: Session,
                      channels: Annotated[str, Form(max_length=12)] = "") -> Response:
    try:
        if not (channels.strip().isascii() and channels.strip().isdigit()):  # not "²"
            raise ValidationError([("channels", "a whole number, 0 or more")])
        console.client.allocate_channels(campaign_id, int(channels))
    except (InvalidTransition, ValidationError) as exc:
        return _refused(request, console, campaign_id, "channels", exc)
    return redirect(f"{_url(campaign_id)}?done=channels")


@router.get("/campaigns/{campaign_id}/stream", response_class=EventSourceResponse)
async def campaign_stream(
    request: Request, campaign_id: str, console: Session,
    after: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[str | None, Query(max_length=40)] = None,
    last_event_id: Annotated[str | None, Header(max_length=200)] = None,
) -> EventSourceResponse:
    """The log and figures of the page, live. The browser's own reconnect resumes with
    ``Last-Event-ID``; the extension's (a new EventSource, after the server was gone)
    with ``after``, which console.js keeps at the last event the page received."""
    detail = await run_in_threadpool(console.client.get, campaign_id)  # 404: not theirs
    settings: Settings = request.app.state.settings
    shutdown = anyio.Event()
    events = campaign_events(
        console.client, campaign_id, last_event_id=last_event_id or after,
        options=StreamOptions(poll_s=settings.api_stream_poll_s,
                              metrics_s=settings.api_stream_metrics_s,
                              until_finished=False,
                              still_authorised=console.still_signed_in),
        is_disconnected=request.is_disconnected, shutdown=shutdown)

    def render(template: str, context: dict[str, Any]) -> str:
        return templates.get_template(template).render(
            {"console": console, **context})

    html = live_stream.console_events(events, client=console.client,
                                      campaign_id=campaign_id,
                                      zone=detail.campaign.timezone,
                                      # The browser's own reconnect (Last-Event-ID) reuses
                                      # the page's first URL: its state may be stale.
                                      shown_state=None if last_event_id else state,
                                      render=render)
    return EventSourceResponse(html, ping=settings.api_stream_heartbeat_s,
                               shutdown_event=shutdown,
                               shutdown_grace_period=SHUTDOWN_GRACE_S)
