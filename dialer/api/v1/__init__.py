"""The native surface: ``/v1``, the client's methods with the client's field names."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api.errors import responses
from dialer.api.v1 import (
    analytics,
    audiences,
    calls,
    campaigns,
    dnc,
    exports,
    leads,
    numbers,
    reads,
    stream,
)

router = APIRouter(prefix="/v1", responses=responses(401))
for module in (numbers, audiences, campaigns, reads, stream, dnc, calls, exports, leads,
               analytics):
    router.include_router(module.router)
