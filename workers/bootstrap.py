"""One Runtime per worker process, built lazily after the fork."""

from __future__ import annotations

import os

from celery.signals import worker_process_init

from dialer.providers import load_provider
from dialer.service.runtime import Runtime, build_runtime
from dialer.settings import load_settings
from workers.app import app
from workers.dispatch import CeleryDispatcher
from workers.startup_checks import connect_start_checks

# The start-up checks and the clock-skew warning, on the worker's signals.
connect_start_checks()

_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None or _runtime.pid != os.getpid():
        _runtime = build_runtime(load_settings(), dispatcher=CeleryDispatcher(app),
                                 provider_factory=load_provider)
    return _runtime


@worker_process_init.connect
def _fresh_runtime_after_fork(**_: object) -> None:
    # Connections inherited from the parent must never be shared by children.
    global _runtime
    _runtime = None
