"""TEMPORARY scaffolding of the atoms branch (the api branch owns this module): the
smallest app that serves /atoms/v1, so its tests run before the merge. At the merge take
the api branch's ``dialer.api`` whole: its app mounts ``dialer.api.atoms.router`` at
/atoms/v1 itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dialer.api import atoms


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from dialer.client import DialerClient

    owner = DialerClient()  # builds the runtime from the DIALER_* settings, like the CLI
    app.state.runtime = owner.runtime
    try:
        yield
    finally:
        owner.close()


app = FastAPI(title="dialer", lifespan=_lifespan)
app.include_router(atoms.router, prefix="/atoms/v1")
