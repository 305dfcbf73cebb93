"""The ``dialer`` command, run in-process as a person types it (Typer's CliRunner)."""

from __future__ import annotations

from typer.testing import CliRunner

from dialer.cli import app


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``dialer ARGS...``.

    An exception other than the exit itself is re-raised: a traceback is a test
    failure, never a message for the user.
    """
    result = CliRunner().invoke(app, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
