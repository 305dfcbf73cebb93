"""``dialer campaign analytics ID``: the funnel, the pickup rates, the executions and the
week's heatmap of one campaign, as tables (or ``--json``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Column, Table
from rich.text import Text

from dialer.cli_common import console, dialer_client, plain, resolve, time_column, when

if TYPE_CHECKING:
    from dialer.views import HeatmapView, PickupRow

# A cell's character says how many calls it had (against the busiest cell), its colour
# how many were answered: readable without colour, and at a glance with it.
VOLUME_MARKS = "·░▒▓█"
RATE_STYLES = ((0.4, "green"), (0.2, "yellow"), (0.0, "red"))


def analytics_command(
    campaign_id: str,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Funnel, pickup rate by attempt and by caller ID, executions, and the heatmap of
    calls placed per day and hour (in the campaign's zone)."""
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        funnel = client.funnel(campaign_id)
        by_attempt = client.pickup_by_attempt(campaign_id)
        by_caller = client.pickup_by_caller_id(campaign_id)
        summary = client.execution_summary(campaign_id)
        heatmap = client.heatmap(campaign_id)
    if as_json:
        console.print_json(json.dumps({
            "funnel": funnel.model_dump(mode="json"),
            "pickup_by_attempt": [r.model_dump(mode="json") for r in by_attempt],
            "pickup_by_caller_id": [r.model_dump(mode="json") for r in by_caller],
            "executions": summary.model_dump(mode="json"),
            "heatmap": heatmap.model_dump(mode="json")}))
        return
    steps = Table("step", "contacts", "% of total", "% of previous", title="funnel")
    for step in funnel.steps:
        steps.add_row(step.name, str(step.count), f"{step.pct_of_total:g}",
                      f"{step.pct_of_previous:g}")
    console.print(steps)
    console.print(_pickup_table("attempt", by_attempt))
    console.print(_pickup_table("caller ID", by_caller))
    runs = Table("#", Column("status", no_wrap=True), time_column("started", wide=False),
                 Column("duration", no_wrap=True), "calls", Column("contacts", no_wrap=True),
                 "failed", Column("progress", no_wrap=True), title=(
                     f"executions: {summary.total} ({summary.running} running, "
                     f"{summary.paused} paused, {summary.stopped} stopped, "
                     f"{summary.completed} completed, {summary.failed} failed)"))
    for run in summary.executions:
        runs.add_row(str(run.execution_number), run.status, when(run.started_at, wide=False),
                     _duration(run.duration_s), str(run.calls_placed),
                     f"{run.processed_members}/{run.total_members}", str(run.failed_members),
                     f"{run.progress_pct:g}%")
    console.print(runs)
    console.print(_heatmap_table(heatmap))


def _pickup_table(key: str, rows: list[PickupRow]) -> Table:
    table = Table(key, "placed", "answered", "pickup", title=f"pickup by {key}")
    for row in rows:
        table.add_row(plain(row.key), str(row.placed), str(row.answered),
                      f"{100 * row.rate:.1f}%")
    return table


def _heatmap_table(heatmap: HeatmapView) -> Table:
    busiest = max((c.placed for c in heatmap.cells), default=0)
    table = Table("day", *(f"{h:02d}" for h in range(24)), padding=0, title=(
        f"calls placed per hour ({heatmap.timezone}): {VOLUME_MARKS[1:]} more calls; "
        "green ≥ 40% answered, yellow ≥ 20%, red below"))
    by_day: dict[str, list[Text]] = {}
    for cell in heatmap.cells:
        if not cell.placed:
            mark = Text(" " + VOLUME_MARKS[0], style="dim")
        else:
            level = 1 + min(3, (4 * cell.placed - 1) // max(busiest, 1))
            style = next(s for floor, s in RATE_STYLES if cell.answer_rate >= floor)
            mark = Text(" " + VOLUME_MARKS[level], style=style)
        by_day.setdefault(cell.day, []).append(mark)
    for day, marks in by_day.items():
        table.add_row(day, *marks)
    return table


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
