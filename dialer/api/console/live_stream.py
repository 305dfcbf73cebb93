"""The campaign console's live parts: its event log and its live figures, rendered on
the server as HTML for htmx's SSE extension.

The console's stream is the ``/v1`` stream (``dialer.api.stream.campaign_events``:
the same positions, resume and overlap rules) with each event translated:

- ``lifecycle``, ``placed``, ``outcome``, ``retry_scheduled`` and ``skipped`` become one
  ``log`` event each: a ``<li>`` of the log (time in the campaign's zone, kind, text; a
  phone number masked as the logs mask it). Its SSE ``id`` is the stream's position,
  its element id the event's own key, so a row sent twice (a reconnect that resumed
  from an older position) is recognised by the page and not added again.
- ``metrics`` becomes a ``metrics`` event: the gauge, counters, outcomes and breaker
  (the swap target's content), the status badge out of band, and the readiness and
  actions out of band when the status or the breaker changed since this connection
  last said.
- ``end`` after a shutdown is not sent on (the browser reconnects); after a revoked
  key or a deleted campaign it becomes ``closed``, saying so, and the page stops
  listening.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from dialer import lifecycle
from dialer.api import stream_events
from dialer.api.stream import CampaignFeeds
from dialer.client import DialerClient
from dialer.errors import NotFound
from dialer.phones import mask
from dialer.statuses import CAMPAIGN_TERMINAL
from dialer.views import CampaignView

# The rows the page shows at load (``recent_log``).
LOAD_LIMIT = 500
LOAD_READS = 20
RECENT_REAL_S = 600.0
SHOWN_AT_LOAD = 100
# The stream's ``end`` reasons after which reconnecting cannot help.
CLOSED = ("unauthorized", "deleted")


@dataclass(frozen=True)
class LogRow:
    """One line of the event log."""

    key: str  # stable: the element id, whichever connection sent it
    at: datetime | None
    kind: str
    text: str


def _attempt(n: int) -> str:
    return f"attempt {n}"


def _lifecycle(e: stream_events.StreamLifecycle) -> LogRow:
    action = e.action.replace("_", " ")
    text = f"{action}: {e.detail}" if e.detail else action
    return LogRow(f"log-e{e.id}", e.at, "lifecycle", f"{text} ({e.source})")


def _placed(e: stream_events.StreamPlaced) -> LogRow:
    caller = f" from {mask(e.from_number)}" if e.from_number else ""
    return LogRow(f"log-p{e.call_id}", e.at, "placed",
                  f"Call to {mask(e.phone)}{caller}, {_attempt(e.attempt)}")


def _outcome(e: stream_events.StreamOutcome) -> LogRow:
    parts = [f"Contact {e.contact_id}: {e.outcome.replace('_', ' ')}"]
    if e.duration_s:
        parts.append(f"{e.duration_s:.0f} s")
    if e.goal_achieved:
        parts.append("goal achieved")
    parts.append(_attempt(e.attempt))
    return LogRow(f"log-o{e.call_id}", e.at, "outcome", ", ".join(parts))


def _retry(e: stream_events.StreamRetryScheduled, at: datetime | None,
           zone: str) -> LogRow:
    when = (f" at {clock(e.next_attempt_at, zone)}" if e.next_attempt_at
            else " when a channel is free")
    return LogRow(f"log-r{e.call_id}", at, "retry",
                  f"Contact {e.contact_id}: {_attempt(e.attempt + 1)}{when}")


def _skipped(e: stream_events.StreamSkipped) -> LogRow:
    reason = e.reason.replace("_", " ")
    text = f"{mask(e.phone)} skipped: {reason}" + (f" ({e.detail})" if e.detail else "")
    return LogRow(f"log-s{e.id}", e.at, "skipped", text)


def clock(at: datetime | None, zone: str) -> str:
    """An instant as the log shows it: day and time in the campaign's zone."""
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(zone)).strftime("%b %d %H:%M:%S")


class LogTranslator:
    """Stream events → log rows. A retry has no instant of its own: it is its outcome's
    (the stream sends ``retry_scheduled`` right after the ``outcome`` it follows)."""

    def __init__(self, zone: str) -> None:
        self.zone = zone
        self._outcome_at: dict[str, datetime] = {}

    def row(self, name: str, values: dict[str, Any] | BaseModel) -> LogRow | None:
        model = stream_events.EVENTS[name]
        event = values if isinstance(values, model) else model.model_validate(
            values if isinstance(values, dict) else values.model_dump())
        match event:
            case stream_events.StreamLifecycle():
                return _lifecycle(event)
            case stream_events.StreamPlaced():
                return _placed(event)
            case stream_events.StreamOutcome():
                self._outcome_at = {event.call_id: event.at}
                return _outcome(event)
            case stream_events.StreamRetryScheduled():
                return _retry(event, self._outcome_at.get(event.call_id), self.zone)
            case stream_events.StreamSkipped():
                return _skipped(event)
        return None


# -- what the page shows -------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str  # the path's last part
    label: str
    confirm: str | None = None  # asked before the ones that stop dialing
    danger: bool = False


def actions_for(campaign: CampaignView) -> list[Action]:
    """The commands the campaign's status allows now (dialer.lifecycle decides)."""
    status = campaign.status
    out: list[Action] = []
    if status in lifecycle.allowed_from("start"):
        out.append(Action("start", "Start"))
    if status in lifecycle.allowed_from("resume") and not campaign.breaker_open:
        out.append(Action("resume", "Resume"))
    if status in lifecycle.allowed_from("pause"):
        out.append(Action("pause", "Pause", confirm=(
            f"Pause {campaign.name}? No new calls are placed; calls in progress finish.")))
    if status in lifecycle.allowed_from("stop"):
        out.append(Action("stop", "Stop", danger=True, confirm=(
            f"Stop {campaign.name}? It cannot be started again; "
            "contacts not yet called are not called.")))
    return out


def can_allocate(campaign: CampaignView) -> bool:
    return campaign.status not in CAMPAIGN_TERMINAL


def state_of(campaign: CampaignView) -> str:
    """What the readiness and actions depend on that the stream watches."""
    return f"{campaign.status}.{'open' if campaign.breaker_open else 'closed'}"


@dataclass
class RecentLog:
    rows: list[LogRow]
    cursor: str


def recent_log(client: DialerClient, campaign_id: str, zone: str) -> RecentLog:
    """The rows the page shows at load, newest first, and the stream position after
    them (the page's stream continues from there). Calls are read from the last
    RECENT_REAL_S real seconds; lifecycle events and skips from the first (the
    activity read pages them by id), in reads of LOAD_LIMIT, at most LOAD_READS of
    them: what a longer history leaves, the stream sends on after the page loads."""
    feeds = CampaignFeeds(time_scale=client.runtime.clock.time_scale)
    since = client.now() - timedelta(seconds=RECENT_REAL_S * client.runtime.clock.time_scale)
    feeds.placed.position = feeds.ended.position = since + feeds.placed.overlap
    translator = LogTranslator(zone)
    # Newest first as the stream would have added them: by instant, then (a retry and
    # its outcome share one) the later sent above.
    rows: list[tuple[float, int, LogRow]] = []
    sent = itertools.count()
    limit = LOAD_LIMIT
    for _ in range(LOAD_READS):
        activity = client.campaign_activity(campaign_id, after=feeds.after(), limit=limit)
        new = feeds.poll(activity)
        rows += [(row.at.timestamp() if row.at else 0.0, next(sent), row)
                 for name, values, _ in new
                 if (row := translator.row(name, values)) is not None]
        rows.sort(key=lambda item: item[:2], reverse=True)
        del rows[SHOWN_AT_LOAD:]
        if not new or all(len(part) < limit for part in (
                activity.events, activity.skips, activity.placed, activity.ended)):
            break
        limit = feeds.limit()
    return RecentLog(rows=[row for _, _, row in rows], cursor=feeds.cursor())


Render = Callable[[str, dict[str, Any]], str]


async def console_events(events: AsyncIterator[ServerSentEvent], *, client: DialerClient,
                         campaign_id: str, zone: str, shown_state: str | None,
                         render: Render) -> AsyncIterator[ServerSentEvent]:
    """``campaign_events`` as the console's page takes them (the module's docstring).
    The readiness and actions are redrawn when the state they depend on (``state_of``)
    differs from ``shown_state``: what the page shows, None when unknown (a reconnect
    after an outage, which cannot know what changed meanwhile)."""
    translator = LogTranslator(zone)
    async for event in events:
        name = event.event or ""
        if name == "metrics":
            try:
                detail = await run_in_threadpool(client.get, campaign_id)
            except NotFound:
                yield closed_event(render, "deleted")
                return
            state = state_of(detail.campaign)
            readiness = None
            if state != shown_state:
                readiness = await run_in_threadpool(client.readiness, campaign_id)
                shown_state = state
            yield ServerSentEvent(data=_one_line(render("campaigns/_live_metrics.html", {
                "campaign": detail.campaign, "detail": detail, "readiness": readiness,
                "oob": True})), event="metrics")
        elif name in ("lifecycle", "placed", "outcome", "retry_scheduled", "skipped"):
            row = translator.row(name, json.loads(str(event.data)))
            if row is not None:
                yield ServerSentEvent(data=_one_line(render("campaigns/_live_row.html", {
                    "row": row, "zone": zone})), event="log", id=event.id)
        elif name == "end":
            # A shutdown: nothing to say, the browser reconnects. A revoked key or a
            # deleted campaign: reconnecting cannot help, so the page is told why and
            # closes its stream (sse-close="closed").
            reason = json.loads(str(event.data)).get("reason")
            if reason in CLOSED:
                yield closed_event(render, reason)


def closed_event(render: Render, reason: str) -> ServerSentEvent:
    """The stream's last word: why reconnecting cannot help (the page stops retrying)."""
    return ServerSentEvent(data=_one_line(render("campaigns/_live_closed.html", {
        "reason": reason})), event="closed")


def _one_line(html: str) -> str:
    """SSE data lines: the HTML joined into one (newlines inside text are spaces)."""
    return " ".join(line.strip() for line in html.splitlines() if line.strip())
