"""The API tier: uvicorn as a real process, httpx over its socket, the real stack's
PostgreSQL, Redis and (when a test dials) Celery worker and beat."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from dialer.service import orgs
from tests.support.api_server import ApiServer
from tests.support.scenario import MONDAY_9AM_NY
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


@dataclass
class Api:
    stack: Stack
    server: ApiServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def new_org(self, name: str) -> OrgKey:
        """A new organisation, an API key of it and its webhook secret."""
        rt = self.stack.client().runtime
        orgs.create_org(rt, name)
        _, key = orgs.create_api_key(rt, name, label="test")
        org = orgs.authenticate(rt, key)
        assert org is not None
        return OrgKey(name=name, id=org.id, key=key, secret=orgs.webhook_secret(rt, org.id))


@dataclass(frozen=True)
class OrgKey:
    name: str
    id: str
    key: str
    secret: str


@pytest.fixture
def start_api(make_stack, request) -> Iterator[Callable[..., Api]]:
    """``start_api(dialing=False, time_scale=..., extra_env=...)``: a stack (with a worker
    and a beat when ``dialing``) and the API in front of it."""
    servers: list[ApiServer] = []

    def factory(*, dialing: bool = False, time_scale: float = 60.0,
                sim_start: datetime = MONDAY_9AM_NY, provider: str | None = None,
                extra_env: dict[str, str] | None = None) -> Api:
        kwargs: dict[str, Any] = {"sim_start": sim_start, "time_scale": time_scale,
                                  "extra_env": extra_env}
        if provider is not None:
            kwargs["provider"] = provider
        stack = make_stack(**kwargs)
        if dialing:
            stack.start_worker(concurrency=4)
            stack.start_beat()
        server = ApiServer(stack.env)
        servers.append(server)
        return Api(stack=stack, server=server)

    yield factory
    failed = getattr(request.node, "rep_call", None)
    for server in servers:
        server.stop()
        if failed is not None and failed.failed:
            print(f"== uvicorn\n{server.logs()[-5000:]}")


@pytest.fixture
def api(start_api) -> Api:
    return start_api()
