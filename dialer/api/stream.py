"""``GET /v1/campaigns/{id}/stream``: a campaign's life as server-sent events.

The server polls PostgreSQL (every ``DIALER_API_STREAM_POLL_S``) for rows after the
stream's position and sends each as one event; the client only listens. Event names:

- ``lifecycle``: a row of the campaign's events (created, started, paused, completed ...)
- ``placed``: a call was placed; ``outcome``: its result; ``retry_scheduled``: that
  result left the contact open for another attempt; ``skipped``: a contact passed over,
  with the reason
- ``metrics``: the campaign's status and metrics, every ``DIALER_API_STREAM_METRICS_S``
- ``end``: the campaign reached a terminal status (only with ``until_finished``) or was
  deleted; the stream then closes.

Every event but ``metrics`` carries an ``id`` (the stream's position); a client that
reconnects with ``Last-Event-ID`` resumes after it. Rows do not commit in the order of
their ids or instants, so each read reaches an overlap behind the position and drops
what was already sent; on a resume, everything up to the position counts as sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from dialer.api import stream_events as events
from dialer.client import DialerClient
from dialer.errors import NotFound
from dialer.statuses import CAMPAIGN_TERMINAL
from dialer.views import ActivityCursor, CampaignActivity

# How far behind its position a read reaches for rows that committed late: real
# seconds (scaled to the simulated clock) for calls, ids for events and skips.
OVERLAP_REAL_S = 5.0
OVERLAP_IDS = 10_000
# On shutdown a stream gets this long to say so (an `end` event) before it is cancelled.
SHUTDOWN_GRACE_S = 3.0
# Rows of each kind one read brings (beyond those of the overlap already sent).
BATCH = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Row = dict[str, Any]


@dataclass
class Feed:
    """New rows of one kind, in position order, each sent once."""

    position_of: Callable[[Row], Any]
    key_of: Callable[[Row], Any]
    overlap: Any
    position: Any = None
    seen: dict[Any, Any] = field(default_factory=dict)

    def start(self) -> Any:
        """Where the next read begins: the overlap behind the position."""
        return None if self.position is None else self.position - self.overlap

    def take(self, rows: list[Row]) -> list[Row]:
        """Rows not sent yet, in position order; ``advance`` past each as it is sent."""
        new = [row for row in rows if self.key_of(row) not in self.seen]
        for row in new:
            self.seen[self.key_of(row)] = self.position_of(row)
        return new

    def advance(self, row: Row) -> None:
        if self.position is None or self.position_of(row) > self.position:
            self.position = self.position_of(row)
            floor = self.start()
            self.seen = {k: p for k, p in self.seen.items() if p >= floor}

    def delivered(self, rows: list[Row]) -> None:
        """After a reconnect: ``rows`` (read from ``start()``) up to the position were
        delivered before it."""
        self.seen = {self.key_of(r): self.position_of(r) for r in rows
                     if self.position_of(r) <= self.position}


def _micros(at: datetime | None) -> str:
    return "-" if at is None else str((at - EPOCH) // timedelta(microseconds=1))


def _instant(text: str) -> datetime | None:
    return None if text == "-" else EPOCH + timedelta(microseconds=int(text))


def _rows(views: list[Any]) -> list[Row]:
    return [view.model_dump() for view in views]


class CampaignFeeds:
    def __init__(self, *, time_scale: float) -> None:
        overlap_t = timedelta(seconds=OVERLAP_REAL_S * time_scale)
        self.events = Feed(lambda r: r["id"], lambda r: r["id"], OVERLAP_IDS, position=0)
        self.skips = Feed(lambda r: r["id"], lambda r: r["id"], OVERLAP_IDS, position=0)
        self.placed = Feed(lambda r: r["at"], lambda r: r["call_id"], overlap_t)
        self.ended = Feed(lambda r: r["at"], lambda r: r["call_id"], overlap_t)

    def cursor(self) -> str:
        return (f"e{self.events.position}.s{self.skips.position}"
                f".p{_micros(self.placed.position)}.o{_micros(self.ended.position)}")

    def after(self) -> ActivityCursor:
        """What to read next: every feed from the overlap behind its position."""
        return ActivityCursor(events_after=self.events.start() or 0,
                              skips_after=self.skips.start() or 0,
                              placed_since=self.placed.start(), ended_since=self.ended.start())

    def limit(self) -> int:
        # Reading len(seen) more than a batch: the rows already sent in the overlap
        # can never crowd out the new ones.
        return BATCH + max(len(feed.seen) for feed in
                           (self.events, self.skips, self.placed, self.ended))

    def resume(self, cursor: str | None,
               read: Callable[[ActivityCursor, int], CampaignActivity]) -> None:
        """Everything up to ``cursor``'s positions was delivered before the reconnect."""
        parsed = parse_cursor(cursor)
        if parsed is None:
            return
        events, skips, placed, ended = parsed
        self.events.position, self.skips.position = events, skips
        if placed is not None:
            self.placed.position = placed
        if ended is not None:
            self.ended.position = ended
        activity = read(self.after(), BATCH * 20)
        self.events.delivered(_rows(activity.events))
        self.skips.delivered(_rows(activity.skips))
        if placed is not None:
            self.placed.delivered(_rows(activity.placed))
        if ended is not None:
            self.ended.delivered(_rows(activity.ended))

    def poll(self, activity: CampaignActivity) -> list[tuple[str, Row, str]]:
        """New rows as (event name, data, position after it): lifecycle first, then
        calls, then skips. Each event's id is the position just after it, so a client
        that stops mid-batch resumes at the first event it did not get."""
        out: list[tuple[str, Row, str]] = []

        def emit(feed: Feed, name: str, row: Row, data: Row | None = None) -> None:
            feed.advance(row)
            out.append((name, row if data is None else data, self.cursor()))

        for row in self.events.take(_rows(activity.events)):
            emit(self.events, "lifecycle", row)
        for row in self.placed.take(_rows(activity.placed)):
            emit(self.placed, "placed", row)
        for row in self.ended.take(_rows(activity.ended)):
            retrying = row.pop("retrying")
            next_attempt_at = row.pop("next_attempt_at")
            emit(self.ended, "outcome", row)
            if retrying:
                out.append(("retry_scheduled", {
                    "call_id": row["call_id"], "contact_id": row["contact_id"],
                    "attempt": row["attempt"], "next_attempt_at": next_attempt_at},
                    self.cursor()))
        for row in self.skips.take(_rows(activity.skips)):
            emit(self.skips, "skipped", row)
        return out


def parse_cursor(cursor: str | None) -> tuple[int, int, datetime | None, datetime | None] | None:
    """``e12.s3.p1764583200000000.o-`` → its positions; None for anything else (the
    stream then starts from the beginning, as without a Last-Event-ID)."""
    if not cursor:
        return None
    try:
        e, s, p, o = cursor.split(".")
        if (e[0], s[0], p[0], o[0]) != ("e", "s", "p", "o"):
            return None
        return int(e[1:]), int(s[1:]), _instant(p[1:]), _instant(o[1:])
    except (ValueError, IndexError, OverflowError):
        return None


@dataclass
class StreamOptions:
    poll_s: float
    metrics_s: float
    until_finished: bool
    # Asked with every metrics snapshot: a key revoked (or an organisation removed)
    # while its stream is open ends the stream there, not at the client's leisure.
    still_authorised: Callable[[], bool] = lambda: True


async def campaign_events(client: DialerClient, campaign_id: str, *,
                          last_event_id: str | None, options: StreamOptions,
                          is_disconnected: Callable[[], Any],
                          shutdown: anyio.Event) -> AsyncIterator[ServerSentEvent]:
    """The stream's events until the client leaves, the campaign ends (``until_finished``)
    or the server shuts down (``shutdown`` set: an ``end`` event with reason ``shutdown``
    closes the response properly; the client reconnects elsewhere with Last-Event-ID)."""
    feeds = CampaignFeeds(time_scale=client.runtime.clock.time_scale)

    def read(after: ActivityCursor, limit: int) -> CampaignActivity:
        try:
            return client.campaign_activity(campaign_id, after=after, limit=limit)
        except NotFound:  # gone: the stream ends as for a deleted campaign
            return CampaignActivity(status=None, events=[], skips=[], placed=[], ended=[])

    def resume() -> None:
        feeds.resume(last_event_id, read)

    def poll() -> tuple[list[tuple[str, Row, str]], str | None]:
        # One read: the status first, then the rows (dialer.service.activity).
        activity = read(feeds.after(), feeds.limit())
        return feeds.poll(activity), activity.status

    await run_in_threadpool(resume)
    loop = asyncio.get_running_loop()
    next_metrics = loop.time()
    while not await is_disconnected():
        rows, status = await run_in_threadpool(poll)
        for name, values, cursor in rows:
            yield ServerSentEvent(data=events.data(name, values), event=name, id=cursor)
        finished = status is None or (options.until_finished and status in CAMPAIGN_TERMINAL)
        if finished or loop.time() >= next_metrics:
            next_metrics = loop.time() + options.metrics_s
            if not await run_in_threadpool(options.still_authorised):
                yield ServerSentEvent(data=events.data("end", {"reason": "unauthorized"}),
                                      event="end", id=feeds.cursor())
                return
            try:
                detail = await run_in_threadpool(client.get, campaign_id)
            except NotFound:
                yield ServerSentEvent(data=events.data("end", {"reason": "deleted"}),
                                      event="end", id=feeds.cursor())
                return
            yield ServerSentEvent(data=events.data("metrics", {
                "campaign_id": campaign_id, "status": detail.campaign.status,
                "pause_reason": detail.campaign.pause_reason,
                "at": client.now(), "metrics": detail.metrics}), event="metrics")
        if finished:
            yield ServerSentEvent(data=events.data("end", {"reason": status}), event="end",
                                  id=feeds.cursor())
            return
        with anyio.move_on_after(options.poll_s):
            await shutdown.wait()
        if shutdown.is_set():
            yield ServerSentEvent(data=events.data("end", {"reason": "shutdown"}), event="end",
                                  id=feeds.cursor())
            return
