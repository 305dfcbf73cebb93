"""The ASGI app: one shared Runtime for the process, the error vocabulary, the body
cap, ``/healthz``, the native ``/v1`` surface and the Atoms-compatible ``/atoms/v1``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dialer.api import atoms, console, errors, export_slots, openapi
from dialer.api.access_log import redact_access_log
from dialer.api.health import router as health_router
from dialer.api.limits import BodySizeLimit
from dialer.api.runtime import build_api_runtime
from dialer.api.v1 import router as v1_router
from dialer.settings import Settings, load_settings

log = logging.getLogger(__name__)

DESCRIPTION = """Outbound campaign dialer. Every route but `/healthz` and these documents
needs `Authorization: Bearer <api key>` (`dialer apikey create --org NAME`) and acts for
the key's organisation. Errors are `{"errors": [{"field": "dotted.path", "message": ...}]}`.
See docs/api.md."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; nothing connects until it starts (the lifespan builds the Runtime)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redact_access_log()
        app.state.settings = settings or load_settings()
        app.state.runtime = build_api_runtime(app.state.settings)
        app.state.export_slots = export_slots.for_settings(app.state.settings)
        try:
            yield
        finally:
            app.state.runtime.close()

    app = FastAPI(title="Dialer API", version="1", description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=lambda: _settings(app).api_max_body_bytes)
    app.add_middleware(errors.LastResort)
    app.include_router(health_router)
    app.include_router(v1_router)
    app.include_router(atoms.router, prefix=atoms.PREFIX)
    console.install(app)
    openapi.install(app)
    return app


def _settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings

