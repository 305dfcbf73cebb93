"""The ``dialer`` command (Typer + Rich). User mistakes print one line, no traceback."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from dialer import (
    cli_calls,
    cli_common,
    cli_leads,  # noqa: F401  (registers its commands on the groups above)
)
from dialer.cli_analytics import analytics_command
from dialer.cli_api import api_app
from dialer.cli_campaign import campaign_app
from dialer.cli_common import (
    console,
    dialer_client,
    plain,
    resolve,
    time_column,
    user_errors,
    when,
)
from dialer.cli_contacts import FULL_HELP, audience_app, dnc_app, phone_app, rejected_app
from dialer.cli_metrics import metrics_app
from dialer.cli_orgs import apikey_app, org_app
from dialer.cli_watch import watch


class OrgOptionGroup(TyperGroup):
    """The root command: ``--org NAME`` is taken out of the command line wherever it is
    (``dialer campaign list --org acme`` as well as ``dialer --org acme campaign list``),
    so every command acts for that organisation without declaring the option.
    ``dialer apikey ...`` keeps its own ``--org`` (the key's organisation)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click
        cli_common.acting_org, rest = take_org_option(args)
        return super().parse_args(ctx, rest)


app = typer.Typer(cls=OrgOptionGroup, no_args_is_help=True, add_completion=False,
                  help="Outbound campaign dialer.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(phone_app, name="phone")
app.add_typer(audience_app, name="audience")
campaign_app.command("analytics")(analytics_command)
app.add_typer(campaign_app, name="campaign")
cli_calls.register(campaign_app)
app.add_typer(dnc_app, name="dnc")
app.add_typer(rejected_app, name="rejected")
app.add_typer(metrics_app, name="metrics")
app.add_typer(org_app, name="org")
app.add_typer(apikey_app, name="apikey")
app.command("watch")(watch)
app.add_typer(api_app, name="api")


def take_org_option(args: list[str]) -> tuple[str, list[str]]:
    """``--org NAME`` (or ``--org=NAME``) taken out of a command line; the rest as it was.
    Not for ``dialer apikey ...`` (its own ``--org``, the key's organisation, wherever
    ``apikey`` stands), nor after ``--``."""
    if "apikey" in args[:args.index("--") if "--" in args else len(args)]:
        return cli_common.DEFAULT_ORG, list(args)
    org, rest, index = cli_common.DEFAULT_ORG, [], 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg == "--org" and index + 1 < len(args):
            org, index = args[index + 1], index + 2
            continue
        if arg.startswith("--org="):
            org, index = arg.split("=", 1)[1], index + 1
            continue
        rest.append(arg)
        index += 1
    return org, rest


ORG_HELP = ("Act for this organisation (default: default). Also accepted after any "
            "command, as in `dialer campaign list --org acme`.")


@app.callback()
def root(org: str = typer.Option(cli_common.DEFAULT_ORG, "--org", help=ORG_HELP)) -> None:
    """Outbound campaign dialer."""
    # Never reached with a value: OrgOptionGroup takes --org out first. Declared so
    # that `dialer --help` shows it.


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the schema in DIALER_DATABASE_URL (idempotent)."""
    from dialer.settings import load_settings
    from models.db import upgrade

    with user_errors():
        upgrade(load_settings().database_url, revision)
    console.print(f"schema at {revision}")


@app.command("demo")
def demo(
    contacts: int = typer.Option(300, min=1, max=5000, help="How many simulated contacts."),
    channels: int = typer.Option(25, min=1, max=200),
    time_scale: float = typer.Option(120.0, min=1.0, help="Simulated seconds per real second."),
    workers: int = typer.Option(1, min=1, max=8, help="Worker processes to start."),
    console_port: int | None = typer.Option(
        None, "--console", min=1, max=65535, metavar="PORT",
        help="Also serve the web console on this port, print a key to sign in with, and "
             "keep it up after the campaign ends (Ctrl-C)."),
) -> None:
    """Run a simulated campaign end to end with live progress."""
    from dialer.cli_demo import run_demo

    with user_errors():
        code = run_demo(contacts=contacts, channels=channels, time_scale=time_scale,
                        workers=workers, console=console, console_port=console_port)
    raise typer.Exit(code)


@app.command("forecast")
def forecast_command(campaign_id: str) -> None:
    """Calls per hour the settings achieve, and when the remaining contacts are done."""
    with dialer_client() as client:
        result = client.forecast(resolve(client, "campaign", campaign_id))
    eta = result.eta.isoformat() if result.eta else "not within the forecast horizon"
    console.print(f"calls per hour: {result.calls_per_hour:g}\neta: {eta}")


@app.command("skips")
def skips_command(campaign_id: str,
                  limit: int = typer.Option(50, min=1, help="Most recent N."),
                  full: bool = typer.Option(False, "--full", help=FULL_HELP)) -> None:
    """Why contacts were passed over (DNC, window, cap, cooldown, breaker ...)."""
    from rich.table import Table

    from dialer.phones import mask

    with dialer_client() as client:
        rows = client.skips(resolve(client, "campaign", campaign_id))[-limit:]
    table = Table(time_column("at"), "contact", "phone", "reason", "detail")
    for row in rows:
        table.add_row(when(row.at), str(row.contact_id),
                      row.phone if full else mask(row.phone), plain(row.reason),
                      plain(row.detail))
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
