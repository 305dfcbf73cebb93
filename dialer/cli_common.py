"""What every ``dialer`` command shares: consoles, the client, one-line errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column
from rich.text import Text

from dialer.errors import DialerError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from dialer.client import DialerClient

console = Console(soft_wrap=True)  # messages stay one greppable line
err_console = Console(stderr=True, soft_wrap=True)

USER_ERROR = 2       # bad input, unknown id, forbidden transition
SERVICE_ERROR = 3    # PostgreSQL or Redis unreachable


def fail(message: str, code: int = USER_ERROR) -> NoReturn:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a person can fix into one line and an exit code, never a traceback."""
    import psycopg
    import pydantic
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except DialerError as exc:
        fail(str(exc))
    except (OperationalError, psycopg.OperationalError, RedisConnectionError,
            ConnectionError) as exc:
        fail(f"cannot reach a service: {str(exc).splitlines()[0]}", SERVICE_ERROR)
    except pydantic.ValidationError as exc:
        # Our own input errors are DialerError; pydantic's own reach here from the settings.
        fail("; ".join(_setting_error(error) for error in exc.errors()))
    except OSError as exc:  # a file named on the command line: missing, unreadable, a folder
        fail(f"{exc.filename or 'file'}: {exc.strerror or exc}")


def _setting_error(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    return f"setting DIALER_{field.upper()}: {error['msg']}"


@contextlib.contextmanager
def dialer_client() -> Iterator[DialerClient]:
    """A client acting as a person (events say ``manual``), with one-line errors."""
    from dialer.client import DialerClient

    with user_errors(), DialerClient(source="manual") as client:
        yield client


def id_column(header: str = "id") -> Column:
    """Ids are for copying: never truncated, never wrapped."""
    return Column(header, no_wrap=True, min_width=36)


def time_column(header: str) -> Column:
    return Column(header, no_wrap=True, min_width=25)


def plain(value: object) -> Text:
    """A value people or other services chose, printed as typed: in a table cell a
    string is Rich markup, so a name like ``[/x]`` would crash it and ``[bold]x``
    would lose its brackets. ``escape`` does the same inside a message."""
    return Text("" if value is None else str(value))


def when(instant: datetime | None) -> str:
    return instant.isoformat(timespec="seconds") if instant else "-"
