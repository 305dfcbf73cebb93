"""The ``dialer`` command (Typer + Rich). User mistakes print one line, no traceback."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from dialer.errors import DialerError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Outbound campaign dialer.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the schema in DIALER_DATABASE_URL (idempotent)."""
    from dialer.settings import load_settings
    from models.db import upgrade

    settings = load_settings()
    upgrade(settings.database_url, revision)
    console.print(f"schema at {revision}")


@app.command("demo")
def demo(
    contacts: int = typer.Option(300, min=1, max=5000, help="How many simulated contacts."),
    channels: int = typer.Option(25, min=1, max=200),
    time_scale: float = typer.Option(120.0, min=1.0, help="Simulated seconds per real second."),
    workers: int = typer.Option(1, min=1, max=8, help="Worker processes to start."),
) -> None:
    """Run a simulated campaign end to end with live progress."""
    from dialer.cli_demo import run_demo

    raise typer.Exit(run_demo(contacts=contacts, channels=channels, time_scale=time_scale,
                              workers=workers, console=console))


def _client():  # -> DialerClient
    from dialer.client import DialerClient

    return DialerClient(source="manual")


@app.command("forecast")
def forecast_command(campaign_id: str) -> None:
    """Calls per hour the settings achieve, and when the remaining contacts are done."""
    with _client() as client:
        result = client.forecast(campaign_id)
    eta = result.eta.isoformat() if result.eta else "not within the forecast horizon"
    console.print(f"calls per hour: {result.calls_per_hour:g}\neta: {eta}")


@app.command("skips")
def skips_command(campaign_id: str,
                  limit: int = typer.Option(50, min=1, help="Most recent N.")) -> None:
    """Why contacts were passed over (DNC, window, cap, cooldown, breaker ...)."""
    from rich.table import Table

    from dialer.phones import mask

    with _client() as client:
        rows = client.skips(campaign_id)[-limit:]
    table = Table("at", "contact", "phone", "reason", "detail")
    for row in rows:
        table.add_row(row.at.isoformat(), str(row.contact_id), mask(row.phone), row.reason,
                      row.detail or "")
    console.print(table)


def main() -> None:
    try:
        app()
    except DialerError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    except Exception as exc:  # infrastructure down: one clear line, not a traceback
        from redis.exceptions import ConnectionError as RedisConnectionError
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError | RedisConnectionError):
            err_console.print(f"[red]error:[/red] cannot reach a service: "
                              f"{str(exc).splitlines()[0]}")
            sys.exit(3)
        raise


if __name__ == "__main__":
    main()
