"""What every ``dialer`` command shares: consoles, the client, one-line errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from dialer.errors import DialerError
from dialer.statuses import CampaignStatus

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from dialer.client import DialerClient
    from dialer.views import CampaignView

console = Console(soft_wrap=True)  # messages stay one greppable line
err_console = Console(stderr=True, soft_wrap=True)

USER_ERROR = 2       # bad input, unknown id, forbidden transition
SERVICE_ERROR = 3    # PostgreSQL or Redis unreachable, or the database not created/migrated

# The database is there to be reached but not set up: a state of the deployment,
# not of the command (the same command works once it is fixed), hence SERVICE_ERROR.
UPGRADE_HINT = "run `dialer db upgrade` (DIALER_DATABASE_URL)"
_UNDEFINED = ("42P01", "42703", "3F000")  # undefined table, column, schema


def fail(message: str, code: int = USER_ERROR) -> NoReturn:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a person can fix into one line and an exit code, never a traceback."""
    import pydantic
    from sqlalchemy.exc import ProgrammingError

    from dialer.service.transient import TRANSIENT_ERRORS

    try:
        yield
    except TRANSIENT_ERRORS as exc:  # before DialerError: InfrastructureError is one
        if (missing := _missing_database(exc)) is not None:
            fail(f"database {missing} does not exist: {UPGRADE_HINT}", SERVICE_ERROR)
        fail(f"cannot reach a service: {(str(exc).splitlines() or [type(exc).__name__])[0]}",
             SERVICE_ERROR)
    except DialerError as exc:
        fail(str(exc))
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _UNDEFINED:
            raise  # a bug of ours: the traceback is the report
        fail(f"the database schema is missing or out of date: {UPGRADE_HINT}", SERVICE_ERROR)
    except pydantic.ValidationError as exc:
        # Our own input errors are DialerError; pydantic's own reach here from the settings.
        fail("; ".join(_setting_error(error) for error in exc.errors()))
    except OSError as exc:  # a file named on the command line: missing, unreadable, a folder
        fail(f"{exc.filename or 'file'}: {exc.strerror or exc}")


def _missing_database(exc: BaseException) -> str | None:
    """The database's name when PostgreSQL answered that it does not exist (3D000)."""
    import re

    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) != "3D000" and "does not exist" not in str(orig):
        return None
    # A refused connection carries no SQLSTATE, only the server's message.
    found = re.search(r'database "([^"]+)" does not exist', str(orig))
    return found.group(1) if found else None


def _setting_error(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    return f"setting DIALER_{field.upper()}: {error['msg']}"


# The organisation every command acts for: ``--org NAME`` anywhere on the command line
# (dialer.cli.main takes it out before Typer parses the rest), or ``dialer --org NAME``.
DEFAULT_ORG = "default"
acting_org = DEFAULT_ORG


@contextlib.contextmanager
def dialer_client() -> Iterator[DialerClient]:
    """A client acting as a person (events say ``manual``) for the ``--org``
    organisation, with one-line errors."""
    from dialer.client import DialerClient

    with user_errors(), DialerClient(source="manual", org=acting_org) as client:
        yield client


def id_column(header: str = "id", *, wide: bool = True) -> Column:
    """Ids are for copying: never truncated, never wrapped. Narrow tables show the
    first characters (every command takes a unique prefix), ``--wide`` the whole id."""
    from dialer.service.id_prefix import SHORT_ID_CHARS

    return Column(header, no_wrap=True, min_width=36 if wide else SHORT_ID_CHARS)


def time_column(header: str, *, wide: bool = True) -> Column:
    return Column(header, no_wrap=True, min_width=25 if wide else 16)


def shown_id(value: str, *, wide: bool) -> str:
    from dialer.service.id_prefix import SHORT_ID_CHARS

    return value if wide else value[:SHORT_ID_CHARS]


def resolve(client: DialerClient, kind: str, text: str) -> str:
    """The whole id for what a person typed: an id or a unique prefix of one."""
    from dialer.service.id_prefix import resolve_id

    org_id = client.org.id
    with client.runtime.unit_of_work() as session:  # a read: nothing committed
        return resolve_id(session, kind, text, org_id=org_id)


def print_table(table: Table, *, wide: bool) -> None:
    """``--wide`` asks for every column whole: printed at its natural width even when
    that is wider than the terminal (which then wraps lines), never collapsed to fit."""
    if not wide:
        console.print(table)
        return
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    saved = console._width  # print(width=) is capped at the console's width
    console.width = max(console.width, natural)
    try:
        console.print(table)
    finally:
        console._width = saved


WIDE_HELP = "Whole ids and timestamps (tables show short ids to fit 80 columns)."


def plain(value: object) -> Text:
    """A value people or other services chose, printed as typed: in a table cell a
    string is Rich markup, so a name like ``[/x]`` would crash it and ``[bold]x``
    would lose its brackets. ``escape`` does the same inside a message."""
    return Text("" if value is None else str(value))


def when(instant: datetime | None, *, wide: bool = True) -> str:
    if not instant:
        return "-"
    if wide:
        return instant.isoformat(timespec="seconds")
    offset = instant.strftime("%z")
    return instant.strftime("%Y-%m-%d %H:%M") + ("Z" if offset in ("+0000", "") else offset)


def failure(campaign: CampaignView) -> Text | None:
    """Why and when a failed campaign failed (its ``error`` and ``failed_at``), in red;
    None for any other status. The error is the provider's or the engine's text: printed
    literally, never read as markup."""
    if campaign.status != CampaignStatus.FAILED:
        return None
    return Text(f"failed at {when(campaign.failed_at)}: "
                f"{campaign.error or 'no reason recorded'}", style="red")
