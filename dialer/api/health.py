"""``GET /healthz``: 200 when PostgreSQL and Redis both answer, 503 otherwise."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dialer.api.schemas import Health
from dialer.service.runtime import Runtime

router = APIRouter(tags=["health"])


def _postgres(rt: Runtime) -> bool:
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _redis(rt: Runtime) -> bool:
    try:
        return bool(rt.redis.ping())
    except Exception:
        return False


@router.get("/healthz", response_model=Health, summary="Is PostgreSQL and Redis reachable?",
            responses={200: {"description": "Both answer", "content": {"application/json": {
                "example": {"status": "ok", "postgres": True, "redis": True}}}},
                503: {"model": Health, "description": "One of them does not"}})
def healthz(request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.runtime
    health = Health(status="ok", postgres=_postgres(rt), redis=_redis(rt))
    if not (health.postgres and health.redis):
        health.status = "unavailable"
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)
