"""``dialer campaign participants|calls|export``: every call visible from the command line.

Tables and ``--json`` mask the contacts' numbers unless ``--full`` (as ``dnc list`` and
``skips`` do); an export is a file for a CRM and holds whole numbers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dialer.cli_common import (
    WIDE_HELP,
    console,
    dialer_client,
    fail,
    id_column,
    plain,
    print_table,
    resolve,
    shown_id,
    time_column,
    when,
)
from dialer.phones import mask

FULL_HELP = "Show whole phone numbers (masked by default, as in logs)."
CONTACT_NUMBERS = ("phone", "answered_phone")
OutputFile = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write to this file (default: standard output).")]


def _filters(status: str | None, outcome: str | None, attempt: int | None,
             since: str | None, until: str | None, page: int, limit: int) -> dict[str, Any]:
    return {"status": status, "outcome": outcome, "attempt": attempt, "since": since,
            "until": until, "page": page, "limit": limit}


def _masked(row: dict[str, Any], *, full: bool) -> dict[str, Any]:
    if full:
        return row
    return {k: (mask(v) if k in CONTACT_NUMBERS and v else v) for k, v in row.items()}


def _print_json(page: Any, *, full: bool) -> None:
    payload = page.model_dump(mode="json")
    payload["items"] = [_masked(item, full=full) for item in payload["items"]]
    console.print_json(json.dumps(payload))


def participants_command(
    campaign_id: str,
    status: str | None = typer.Option(None, help="Only this status."),
    outcome: str | None = typer.Option(None, help="Only this last outcome."),
    attempt: int | None = typer.Option(None, help="Only this many attempts (this cycle)."),
    since: str | None = typer.Option(None, help="Last attempt at or after (ISO-8601)."),
    until: str | None = typer.Option(None, help="Last attempt before (ISO-8601)."),
    page: int = typer.Option(1, help="Page, from 1."),
    limit: int = typer.Option(50, help="Rows per page, 1-1000."),
    full: bool = typer.Option(False, "--full", help=FULL_HELP),
    wide: bool = typer.Option(False, "--wide", help=WIDE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The campaign's contacts and where each stands, filtered, a page at a time."""
    with dialer_client() as client:
        shown = client.participant_page(resolve(client, "campaign", campaign_id),
                                        **_filters(status, outcome, attempt, since, until,
                                                   page, limit))
    if as_json:
        _print_json(shown, full=full)
        return
    table = Table("contact", "name", "phone", "#", "status", "attempts", "last outcome",
                  time_column("last attempt", wide=wide), "skip reason",
                  caption=f"page {shown.page}, {len(shown.items)} of {shown.total}")
    for p in shown.items:
        table.add_row(str(p.contact_id), plain(p.name), p.phone if full else mask(p.phone),
                      str(p.phone_index), p.status, str(p.attempts), p.last_outcome or "-",
                      when(p.last_attempt_at, wide=wide), plain(p.skip_reason or "-"))
    print_table(table, wide=wide)


def calls_command(
    campaign_id: str,
    status: str | None = typer.Option(None, help="Only calls in this status."),
    outcome: str | None = typer.Option(None, help="Only this outcome."),
    attempt: int | None = typer.Option(None, help="Only this attempt number."),
    since: str | None = typer.Option(None, help="Queued at or after (ISO-8601)."),
    until: str | None = typer.Option(None, help="Queued before (ISO-8601)."),
    page: int = typer.Option(1, help="Page, from 1."),
    limit: int = typer.Option(50, help="Rows per page, 1-1000."),
    full: bool = typer.Option(False, "--full", help=FULL_HELP),
    wide: bool = typer.Option(False, "--wide", help=WIDE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The campaign's call attempts, filtered, a page at a time, in queue order."""
    with dialer_client() as client:
        shown = client.call_page(resolve(client, "campaign", campaign_id),
                                 **_filters(status, outcome, attempt, since, until, page,
                                            limit))
    if as_json:
        _print_json(shown, full=full)
        return
    table = Table(id_column("call", wide=wide), "contact", "phone", "attempt", "status",
                  "outcome", "goal", time_column("placed", wide=wide), "seconds", "cost",
                  caption=f"page {shown.page}, {len(shown.items)} of {shown.total}")
    for c in shown.items:
        goal = "-" if c.goal_achieved is None else ("yes" if c.goal_achieved else "no")
        table.add_row(shown_id(c.call_id, wide=wide), str(c.contact_id),
                      c.phone if full else mask(c.phone), str(c.attempt), c.status,
                      c.outcome or "-", goal, when(c.placed_at, wide=wide),
                      "-" if c.duration_s is None else f"{c.duration_s:g}",
                      "-" if c.cost is None else f"{c.cost:g}")
    print_table(table, wide=wide)


def export_command(
    campaign_id: str,
    by: str = typer.Option("contact", "--by", help="`contact` (one row each) or `call`."),
    format: str = typer.Option("csv", "--format", help="`csv`, or `json` (by contact)."),
    output: OutputFile = None,
) -> None:
    """Export the campaign's results, streamed: per contact (CSV or JSON) or per call (CSV)."""
    if by not in ("contact", "call"):
        fail("by: one of contact, call")
    if by == "call" and format != "csv":
        fail("format: the call log is CSV only")
    with dialer_client() as client:
        campaign = resolve(client, "campaign", campaign_id)
        chunks = (client.export_calls(campaign) if by == "call"
                  else client.export_contacts(campaign, format=format))
        _write(chunks, output)
    if output is not None:
        console.print(f"exported to {output}")


def _write(chunks: Iterator[str], output: Path | None) -> None:
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    # newline="": the CSV chunks carry their own \r\n line ends.
    with output.open("w", encoding="utf-8", newline="") as out:
        for chunk in chunks:
            out.write(chunk)


def register(campaign_app: typer.Typer) -> None:
    campaign_app.command("participants")(participants_command)
    campaign_app.command("calls")(calls_command)
    campaign_app.command("export")(export_command)
