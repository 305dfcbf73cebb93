"""``dialer metrics serve``: the Prometheus exporter as a process of its own.

One exporter per deployment is enough (every scrape reads PostgreSQL and
Redis, not process memory); running two is harmless.
"""

from __future__ import annotations

import signal
import threading

import typer

from dialer.cli_common import console, fail, user_errors

metrics_app = typer.Typer(no_args_is_help=True, help="Prometheus metrics.")


class _NoDispatch:
    """The exporter only reads: it never hands work to Celery."""

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        raise RuntimeError("the metrics exporter never sends tasks")

    def send_result(self, call_id: str, **_: object) -> None:
        raise RuntimeError("the metrics exporter never sends tasks")


@metrics_app.command("serve")
def serve(port: int = typer.Option(9108, min=1, max=65535, help="TCP port for /metrics."),
          host: str = typer.Option(
              "127.0.0.1", help="Address to listen on; 0.0.0.0 for every interface (a "
                                "container, a Prometheus on another host).")) -> None:
    """Serve /metrics for Prometheus until interrupted.

    Loopback by default: the page names campaigns and their counts, which
    should reach another machine only when the operator says so."""
    from prometheus_client import CollectorRegistry, start_http_server

    from dialer.providers import load_provider
    from dialer.service.metrics_export import DialerCollector
    from dialer.service.runtime import build_runtime
    from dialer.settings import load_settings
    from workers.logging_setup import configure_process_logging

    with user_errors():
        settings = load_settings()
        configure_process_logging(log_json=settings.log_json)
        runtime = build_runtime(settings, dispatcher=_NoDispatch(),
                                provider_factory=load_provider, pool_size=2)
        # Its own registry: the exporter's page shows the dialer, not this process's internals.
        registry = CollectorRegistry()
        registry.register(DialerCollector(runtime))
        try:
            server, _ = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            runtime.close()
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    stop = threading.Event()
    # As PID 1 in a container, SIGTERM has no default action: without this
    # handler ``docker stop`` would wait for its SIGKILL. It raises
    # KeyboardInterrupt like Ctrl-C: setting the Event from a handler could
    # deadlock on the lock the interrupted wait() holds.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    console.print(f"serving metrics on http://{host}:{port}/metrics", highlight=False)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        runtime.close()
