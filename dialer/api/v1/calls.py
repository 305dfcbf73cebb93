"""A provider reports a call's outcome (CONTRACT §5) over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from dialer.api import examples as ex
from dialer.api.auth import bearer, runtime
from dialer.api.bodies import parse_json
from dialer.api.errors import responses
from dialer.api.schemas import Applied, CallResultIn
from dialer.api.webhook import SIGNATURE_HEADER, caller_org
from dialer.client import DialerClient

router = APIRouter(prefix="/calls", tags=["provider webhooks"])

BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/CallResultIn"}}}},
    "security": [{"HTTPBearer": []}, {"DialerSignature": []}],
}


@router.post("/{call_id}/result", response_model=Applied, openapi_extra=BODY,
             summary="Report a call's outcome (provider webhook)",
             description="Authenticated by the call's organisation's API key, or by "
                         f"`{SIGNATURE_HEADER}: t=<unix seconds>,sha256=<hex HMAC-SHA256 of "
                         "`<t>.<call_id>.` followed by the raw body, with the organisation's "
                         "webhook secret>` (good for 5 minutes). Idempotent: a replay answers "
                         "`applied: false`.",
             responses={200: ex.ok({"applied": True}), **responses(400, 404, 413, 422)})
async def call_result(call_id: str, request: Request) -> Applied:
    rt = runtime(request)
    raw = await request.body()
    credentials: HTTPAuthorizationCredentials | None = await bearer(request)
    org = await run_in_threadpool(
        caller_org, rt, call_id, raw, api_key=credentials.credentials if credentials else None,
        signature=request.headers.get(SIGNATURE_HEADER))
    body = parse_json(CallResultIn, raw)
    client = DialerClient.for_org(rt, org, source="api")
    applied = await run_in_threadpool(
        client.call_result, call_id, body.outcome, duration_s=body.duration_s,
        goal_achieved=body.goal_achieved, detail=body.detail, recording_url=body.recording_url,
        transcript_url=body.transcript_url, cost=body.cost)
    return Applied(applied=applied)
