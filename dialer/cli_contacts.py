"""``dialer phone|audience|dnc|rejected ...``: caller IDs, contact lists, do-not-call."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from dialer.cli_common import (
    WIDE_HELP,
    console,
    dialer_client,
    escape,
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

phone_app = typer.Typer(no_args_is_help=True, help="Outbound caller IDs.")
audience_app = typer.Typer(no_args_is_help=True, help="Contact lists.")
dnc_app = typer.Typer(no_args_is_help=True, help="The organisation-wide do-not-call list.")
rejected_app = typer.Typer(no_args_is_help=True, help="Remote requests refused for bad input.")

FULL_HELP = "Show whole phone numbers (masked by default, as in logs)."
NumbersArg = Annotated[list[str] | None, typer.Argument(help="Numbers, any format.")]
NumbersFile = Annotated[Path | None, typer.Option(help="A file of numbers, one per line.")]


# -- caller IDs ---------------------------------------------------------------------------

@phone_app.command("add")
def phone_add(number: str,
              provider: str = typer.Option("simulated", help="Telephony provider name."),
              cps: float | None = typer.Option(None, help="Calls per second this number allows.")
              ) -> None:
    """Register an outbound caller ID (any format; stored as E.164)."""
    with dialer_client() as client:
        row = client.add_phone_number(number, provider=provider, cps=cps)
    console.print(f"phone number {row.id}: {row.number} ({escape(row.provider)})")


@phone_app.command("list")
def phone_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
               wide: bool = typer.Option(False, "--wide", help=WIDE_HELP)) -> None:
    """Caller IDs, oldest first."""
    with dialer_client() as client:
        rows = client.phone_numbers()
    if as_json:
        console.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table(id_column(wide=wide), Column("number", no_wrap=True, min_width=16),
                  Column("provider", min_width=8), Column("active", no_wrap=True), "cps")
    for r in rows:
        table.add_row(shown_id(r.id, wide=wide), r.number, plain(r.provider),
                      "yes" if r.is_active else "no", f"{r.cps:g}" if r.cps else "-")
    print_table(table, wide=wide)


@phone_app.command("disable")
def phone_disable(number_id: str) -> None:
    """Take a caller ID out of rotation (campaigns keep dialing with the others)."""
    with dialer_client() as client:
        row = client.set_phone_number_active(
            resolve(client, "phone number", number_id), False)
    console.print(f"phone number {row.id}: inactive")


@phone_app.command("enable")
def phone_enable(number_id: str) -> None:
    """Put a caller ID back into rotation."""
    with dialer_client() as client:
        row = client.set_phone_number_active(
            resolve(client, "phone number", number_id), True)
    console.print(f"phone number {row.id}: active")


@phone_app.command("remove")
def phone_remove(number_id: str) -> None:
    """Remove a caller ID (refused while a scheduled, running or paused campaign lists it);
    its calls keep it, and adding the number again brings it back."""
    with dialer_client() as client:
        full_id = resolve(client, "phone number", number_id)
        client.remove_phone_number(full_id)
    console.print(f"phone number {full_id}: removed")


# -- audiences ----------------------------------------------------------------------------

def _data_rows(path: Path) -> int:
    """Lines after the header: the progress bar's total, counted without parsing."""
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - 1)


@audience_app.command("create")
def audience_create(
    name: str,
    csv_file: Annotated[Path, typer.Option(
        "--csv", help="CSV with a header row; 'phone' required.")],
    show_rejected: int = typer.Option(10, min=0, help="How many rejected rows to print."),
    rejected_out: Annotated[Path | None, typer.Option(
        help="Write every rejected row to this CSV: row number, error, then the row as it "
             "was (phone masked unless --full), to fix and import again.")] = None,
    full: bool = typer.Option(False, "--full", help="Whole phone numbers in --rejected-out."),
) -> None:
    """Create an audience from a CSV: good rows are kept, bad rows reported by row number."""
    if not csv_file.is_file():
        fail(f"--csv: no such file: {csv_file}")
    if rejected_out is not None and (rejected_out.is_dir()
                                     or not os.access(rejected_out.parent, os.W_OK)):
        # Checked before the import commits: a re-run would create the audience twice.
        fail(f"--rejected-out: cannot write {rejected_out}")
    if rejected_out is not None and rejected_out.resolve() == csv_file.resolve():
        fail("--rejected-out: must not be the --csv file (it would be overwritten)")
    total = _data_rows(csv_file)
    progress = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True,
                        disable=total < 10_000)
    with progress, dialer_client() as client:
        task = progress.add_task("rows", total=total)
        audience = client.create_audience_from_csv(
            name, csv_file, on_progress=lambda done: progress.update(task, completed=done))
        progress.update(task, completed=total)
    rejected = audience.rejected
    console.print(f"audience {audience.id}: {audience.count} contacts imported, "
                  f"{len(rejected)} rows rejected")
    if rejected and show_rejected:
        table = Table("row", "error", title=f"rejected rows (first {show_rejected})")
        for r in rejected[:show_rejected]:
            table.add_row(str(r.index), plain(r.error))
        console.print(table)
    if rejected_out is not None:
        try:
            _write_rejected(csv_file, rejected_out, {r.index: r.error for r in rejected},
                            full=full)
        except OSError as exc:
            fail(f"--rejected-out: {exc.strerror or exc} (audience {audience.id} was created)")
        console.print(f"rejected rows written to {escape(str(rejected_out))}")


def _write_rejected(source: Path, target: Path, errors: dict[int, str], *, full: bool) -> None:
    """``row, error`` and then the rejected rows as they were, read again from the file
    in one pass (only the rejected row numbers are held). Rows are numbered as the
    import numbers them: records of the CSV, the header being row 1. Phones are masked
    like everywhere else a file may travel (a ticket, a mail) unless ``full``."""
    with source.open(newline="", encoding="utf-8-sig") as handle, \
            target.open("w", newline="", encoding="utf-8") as out:
        reader, writer = csv.reader(handle), csv.writer(out)
        header = next(reader, [])
        phone_at = [i for i, key in enumerate(header) if key.strip() == "phone"]
        writer.writerow(["row", "error", *header])
        for offset, cells in enumerate(reader):
            error = errors.get(offset + 2)
            if error is None:
                continue
            if not full:
                cells = [mask(cell) if i in phone_at and cell else cell
                         for i, cell in enumerate(cells)]
            writer.writerow([offset + 2, error, *cells])


@audience_app.command("list")
def audience_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
                  wide: bool = typer.Option(False, "--wide", help=WIDE_HELP)) -> None:
    """Audiences, newest first, with their contact counts (a spec's audience_id
    needs the whole id: see --wide or --json)."""
    with dialer_client() as client:
        rows = client.audiences()
    if as_json:
        console.print_json(json.dumps([a.model_dump(mode="json") for a in rows]))
        return
    table = Table(id_column(wide=wide), Column("name", min_width=10), "contacts",
                  time_column("created", wide=wide))
    for a in rows:
        table.add_row(shown_id(a.id, wide=wide), plain(a.name), str(a.count),
                      when(a.created_at, wide=wide))
    print_table(table, wide=wide)


# -- do-not-call --------------------------------------------------------------------------

def _numbers(numbers: list[str], file: Path | None) -> list[str]:
    found = list(numbers)
    if file is not None:
        if not file.is_file():
            fail(f"--file: no such file: {file}")
        try:
            text = file.read_text(encoding="utf-8-sig")  # a spreadsheet export may carry a BOM
        except UnicodeDecodeError as exc:
            fail(f"--file {file}: not UTF-8 text (byte {exc.start})")
        for line in text.splitlines():
            text = line.split("#", 1)[0].strip()
            if text and text.lower() != "phone":
                found.append(text)
    if not found:
        fail("numbers: give at least one number (or --file)")
    return found


@dnc_app.command("add")
def dnc_add(numbers: NumbersArg = None, file: NumbersFile = None) -> None:
    """Never call these numbers again, in any campaign (checked right before each call)."""
    with dialer_client() as client:
        added = client.add_dnc(_numbers(numbers or [], file))
    console.print(f"{added} numbers added to the do-not-call list")


@dnc_app.command("remove")
def dnc_remove(numbers: NumbersArg = None, file: NumbersFile = None) -> None:
    """Take numbers off the do-not-call list."""
    with dialer_client() as client:
        removed = client.remove_dnc(_numbers(numbers or [], file))
    console.print(f"{removed} numbers removed from the do-not-call list")


@dnc_app.command("list")
def dnc_list(full: bool = typer.Option(False, "--full", help=FULL_HELP)) -> None:
    """The do-not-call list."""
    with dialer_client() as client:
        rows = client.dnc()
    for number in rows:
        console.print(number if full else mask(number), highlight=False)
    console.print(f"{len(rows)} numbers", style="dim")


# -- rejected remote requests ------------------------------------------------------------

@rejected_app.command("list")
def rejected_list(limit: int = typer.Option(20, min=1, help="Most recent N."),
                  as_json: bool = typer.Option(False, "--json")) -> None:
    """Requests sent by other services (dialer.enqueue_campaign ...) that were refused."""
    with dialer_client() as client:
        rows = client.rejected_requests(limit=limit)
    if as_json:
        console.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table("id", time_column("at"), "task", "external_id", "errors")
    for r in rows:
        errors = "; ".join(": ".join(map(str, e)) if isinstance(e, list | tuple) else str(e)
                           for e in r.errors)
        table.add_row(str(r.id), when(r.at), plain(r.task), plain(r.external_id or "-"),
                      plain(errors))
    console.print(table)
