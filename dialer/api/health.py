"""``GET /healthz``: 200 when PostgreSQL and Redis both answer, 503 otherwise."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dialer.api.auth import runtime
from dialer.api.schemas import Health
from dialer.client import DialerClient

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Is PostgreSQL and Redis reachable?",
            responses={200: {"description": "Both answer", "content": {"application/json": {
                "example": {"status": "ok", "postgres": True, "redis": True}}}},
                503: {"model": Health, "description": "One of them does not"}})
def healthz(request: Request) -> JSONResponse:
    # No organisation: the probe asks for no key, and the client reads none for it.
    with DialerClient(runtime=runtime(request)) as client:
        answer = client.health()
    health = Health(status="ok", postgres=answer.postgres, redis=answer.redis)
    if not (health.postgres and health.redis):
        health.status = "unavailable"
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)
