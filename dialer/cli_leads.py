"""``dialer audience add|remove|members`` and ``dialer campaign add-contacts|requeue|
close-lead``: leads while campaigns live (docs/contract.md §9). Registered on the
audience and campaign command groups; events say ``manual``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dialer.cli_campaign import campaign_app
from dialer.cli_common import console, dialer_client, fail, plain, resolve
from dialer.cli_contacts import FULL_HELP, audience_app
from dialer.phones import mask
from dialer.views import ImportReport

CsvOption = Annotated[Path, typer.Option("--csv", help="CSV with a header row; 'phone' "
                                                       "required.")]
ContactIds = Annotated[list[int], typer.Argument(help="Contact ids (dialer audience members).")]
SHOWN_REJECTED = 10


def _print_import(report: ImportReport, where: str) -> None:
    console.print(f"{where}: {report.imported} contacts added, {len(report.rejected)} rows "
                  f"rejected")
    if report.rejected:
        table = Table("row", "error", title=f"rejected rows (first {SHOWN_REJECTED})")
        for r in report.rejected[:SHOWN_REJECTED]:
            table.add_row(str(r.row), plain(r.error))
        console.print(table)


def _checked_csv(csv_file: Path) -> None:
    if not csv_file.is_file():
        fail(f"--csv: no such file: {csv_file}")


@audience_app.command("add")
def audience_add(audience_id: str, csv_file: CsvOption) -> None:
    """Add a CSV's contacts to an audience; they join its campaigns that have not finished
    (a removed contact comes back)."""
    _checked_csv(csv_file)
    with dialer_client() as client:
        audience_id = resolve(client, "audience", audience_id)
        report = client.import_contacts(audience_id, csv_file)
    _print_import(report, f"audience {audience_id}")


@audience_app.command("remove")
def audience_remove(audience_id: str, contact_ids: ContactIds) -> None:
    """Remove contacts from an audience, also while campaigns use it: kept with their
    history, never dialed again; contacts waiting for a call are canceled."""
    with dialer_client() as client:
        audience_id = resolve(client, "audience", audience_id)
        removed = client.remove_audience_members(audience_id, contact_ids)
    console.print(f"audience {audience_id}: {removed} contacts removed")


@audience_app.command("members")
def audience_members(
    audience_id: str,
    page: int = typer.Option(1, min=1, help="Page, from 1."),
    limit: int = typer.Option(50, min=1, max=1000, help="Contacts per page."),
    search: str | None = typer.Option(None, help="Phone, name, time zone or an attribute "
                                                 "value contains it."),
    full: bool = typer.Option(False, "--full", help=FULL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """An audience's contacts (removed ones left out), a page at a time."""
    with dialer_client() as client:
        audience_id = resolve(client, "audience", audience_id)
        shown = client.audience_members(audience_id, page=page, limit=limit, search=search)
    if as_json:
        payload = shown.model_dump(mode="json")
        if not full:
            for member in payload["members"]:
                member["phone"] = mask(member["phone"])
        console.print_json(json.dumps(payload))
        return
    table = Table("contact id", "phone", "name", "timezone",
                  title=f"page {page}, {shown.total} contacts")
    for m in shown.members:
        table.add_row(str(m.id), m.phone if full else mask(m.phone), plain(m.name),
                      plain(m.timezone))
    console.print(table)


@campaign_app.command("add-contacts")
def campaign_add_contacts(campaign_id: str, csv_file: CsvOption) -> None:
    """Add a CSV's contacts to the campaign's audience: they join the campaign (while it
    runs too) and every other campaign of that audience that has not finished."""
    _checked_csv(csv_file)
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        # The campaign's status is checked under its lock, with the import (a finished
        # one is refused in one line, exit 1, as add_campaign_contacts is).
        report = client.add_campaign_contacts_csv(campaign_id, csv_file)
        audience_id = client.get(campaign_id).campaign.audience_id
    _print_import(report, f"campaign {campaign_id} (audience {audience_id})")


@campaign_app.command("requeue")
def campaign_requeue(campaign_id: str, contact_ids: ContactIds) -> None:
    """"Set to created": the contacts pending again, attempts from zero, dialed as soon as
    the calendar, DNC and caps allow."""
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        done = client.requeue_participants(campaign_id, contact_ids)
    console.print(f"campaign {campaign_id}: {done} contacts requeued")


@campaign_app.command("close-lead")
def campaign_close_lead(campaign_id: str, contact_ids: ContactIds) -> None:
    """"Set to completed": the contacts are never dialed again in this campaign."""
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        done = client.close_participants(campaign_id, contact_ids)
    console.print(f"campaign {campaign_id}: {done} contacts closed")
