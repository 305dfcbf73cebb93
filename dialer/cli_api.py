"""``dialer api serve``: the HTTP API (``dialer.api:app``) on uvicorn."""

from __future__ import annotations

import typer

api_app = typer.Typer(no_args_is_help=True, help="The HTTP API (docs/api.md).")


@api_app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: all)."),
          port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
          workers: int = typer.Option(1, min=1, max=64, help="Processes (each its own pool)."),
          forwarded_allow_ips: str | None = typer.Option(
              None, help="Behind a TLS-terminating proxy: its address(es), comma-separated. "
                         "Its X-Forwarded-Proto/-For are then trusted, so the console's "
                         "session cookie is marked Secure."),
          ) -> None:
    """Serve the HTTP API until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from dialer.cli_common import user_errors
    from dialer.settings import load_settings

    with user_errors():
        load_settings()  # a bad DIALER_* setting: one line and exit 2, before uvicorn starts
    # Forwarded headers are trusted only from the proxy named: anyone else could claim
    # to be HTTPS or any client address.
    uvicorn.run("dialer.api:app", host=host, port=port, workers=workers,
                proxy_headers=forwarded_allow_ips is not None,
                forwarded_allow_ips=forwarded_allow_ips, log_level="info")
