"""``dialer api serve``: the HTTP API (``dialer.api:app``) on uvicorn."""

from __future__ import annotations

import typer

api_app = typer.Typer(no_args_is_help=True, help="The HTTP API (docs/api.md).")


@api_app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: all)."),
          port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
          workers: int = typer.Option(1, min=1, max=64, help="Processes (each its own pool)."),
          ) -> None:
    """Serve the HTTP API until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from dialer.cli_common import user_errors
    from dialer.settings import load_settings

    with user_errors():
        load_settings()  # a bad DIALER_* setting: one line and exit 2, before uvicorn starts
    # proxy_headers off: behind a proxy, set FORWARDED_ALLOW_IPS and run uvicorn directly.
    uvicorn.run("dialer.api:app", host=host, port=port, workers=workers,
                proxy_headers=False, log_level="info")
