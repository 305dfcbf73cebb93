"""``dialer watch ID``: a live console of one campaign for the person on call."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from dialer.cli_common import (
    console,
    dialer_client,
    failure,
    plain,
    resolve,
    time_column,
    when,
)
from dialer.service.transient import TRANSIENT_ERRORS
from dialer.statuses import CAMPAIGN_TERMINAL
from dialer.views import CampaignDetail, EventView, ReadinessView

EVENT_TAIL = 8


def render(detail: CampaignDetail, readiness: ReadinessView,
           events: list[EventView]) -> RenderableType:
    c, m = detail.campaign, detail.metrics
    reason = f" ({c.pause_reason})" if c.pause_reason else ""
    # Wrapped inside its box: the console soft-wraps (no_wrap), which in a panel would cut
    # a failed campaign's error at the box's edge.
    header = Text.assemble((c.name, "bold"), f"  {c.id}\n", f"status {c.status}{reason}",
                           f" · dialer time {when(readiness.at)}", no_wrap=False,
                           overflow="fold")
    if (failed := failure(c)) is not None:
        header.append("\n").append_text(failed)

    checklist = Table.grid(padding=(0, 1))
    for check in readiness.checks:
        mark = Text("✔", style="green") if check.ok else Text("✘", style="red")
        checklist.add_row(mark, Text(check.name, style="bold"), Text(check.detail))
    verdict = ("[green]will dial[/green]" if readiness.will_dial
               else "[red]will not dial[/red]")

    channels = Table.grid(padding=(0, 1))
    channels.add_row("channels", ProgressBar(total=max(c.channels, 1),
                                             completed=min(m.channels_in_use, c.channels),
                                             width=30),
                     f"{m.channels_in_use} in use / {c.channels} allocated")

    counters = Table("participants", "called", "connected", "calls placed", "in progress",
                     box=None)
    counters.add_row(str(m.total_participants), str(m.contacts_called),
                     str(m.contacts_connected), str(m.calls_placed), str(m.in_progress))

    outcomes = Table("outcome", "calls", box=None)
    for outcome, count in sorted(m.outcomes.items(), key=lambda kv: -kv[1]):
        outcomes.add_row(outcome, str(count))
    statuses = Table("participant status", "count", box=None)
    for status, count in sorted(m.by_status.items(), key=lambda kv: -kv[1]):
        statuses.add_row(status, str(count))
    breakdown = Table.grid(padding=(0, 4))
    breakdown.add_row(outcomes, statuses)

    tail = Table(time_column("at"), "source", "action", "detail", box=None)
    for e in events[-EVENT_TAIL:]:
        tail.add_row(when(e.at), e.source, e.action, plain(e.detail))

    return Group(
        Panel(header),
        Panel(checklist, title=f"will it dial? {verdict}", title_align="left"),
        channels, counters, breakdown,
        Panel(tail, title="recent events", title_align="left"),
    )


def watch(campaign_id: str,
          interval: float = typer.Option(1.0, min=0.1, help="Real seconds between refreshes."),
          once: bool = typer.Option(False, "--once", help="Print one frame and exit."),
          until_done: bool = typer.Option(False, "--until-done",
                                          help="Exit when the campaign is terminal.")) -> None:
    """Live console: will it dial?, channels in use vs allocated, counters, outcomes, events.

    Off a terminal (piped, redirected, under a supervisor) a plain frame is
    printed and flushed every interval instead of a redrawn screen."""
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)

        def frame() -> tuple[RenderableType, bool]:
            detail = client.get(campaign_id)
            view = render(detail, client.readiness(campaign_id), client.events(campaign_id))
            return view, detail.campaign.status in CAMPAIGN_TERMINAL

        first, done = frame()
        if once:
            console.print(first)
            return
        # SIGTERM (``timeout``, ``kill``, a supervisor) ends the watch like Ctrl-C:
        # exit 0, the frames already printed kept, not a process killed mid-line.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            if console.is_terminal:
                _live(first, done, frame, interval=interval, until_done=until_done)
            else:
                _plain(first, done, frame, interval=interval, until_done=until_done)
        except KeyboardInterrupt:
            pass


Frame = Callable[[], tuple[RenderableType, bool]]


def _live(last_good: RenderableType, done: bool, frame: Frame, *, interval: float,
          until_done: bool) -> None:
    with Live(last_good, console=console, auto_refresh=False) as live:
        while not (until_done and done):
            time.sleep(interval)  # a refresh period, not a timing assumption
            view: RenderableType
            try:
                last_good, done = frame()
                view = last_good
            except TRANSIENT_ERRORS as exc:
                # A restart of PostgreSQL or Redis must not end the watch:
                # keep the last frame and say what is wrong until it is back.
                view = Group(last_good, Text(
                    f"reconnecting: {str(exc).splitlines()[0]}", style="red"))
            live.update(view, refresh=True)


def _plain(view: RenderableType, done: bool, frame: Frame, *, interval: float,
           until_done: bool) -> None:
    """One frame after another, each flushed at once: a reader of the pipe (``tee``,
    a log collector) sees every interval as it happens. Rich's ``Live`` would
    print only when it stops, and the block buffer of a pipe would hold the rest."""
    while True:
        console.print(view)
        console.file.flush()
        if until_done and done:
            return
        time.sleep(interval)  # a refresh period, not a timing assumption
        try:
            view, done = frame()
        except TRANSIENT_ERRORS as exc:
            view = Text(f"reconnecting: {str(exc).splitlines()[0]}")
