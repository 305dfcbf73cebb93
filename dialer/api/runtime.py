"""The API process's one Runtime: built at start-up, shared by every request.

A composition root like ``DialerClient.runtime``: the Celery dispatcher (a started
campaign sends dial tasks) is wired here, so ``dialer.api`` imports ``workers`` in
this module only.
"""

from __future__ import annotations

from dialer.service.runtime import Runtime, build_runtime
from dialer.settings import Settings

# Requests run in a thread pool (40 threads by default); most hold a connection for
# one short transaction, the event streams one each per poll.
POOL_SIZE = 10


def build_api_runtime(settings: Settings) -> Runtime:
    from dialer.providers import load_provider
    from workers.app import create_app
    from workers.dispatch import CeleryDispatcher

    return build_runtime(settings, dispatcher=CeleryDispatcher(create_app(settings)),
                         provider_factory=load_provider, pool_size=POOL_SIZE)
