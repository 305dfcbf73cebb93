"""Atoms' campaign exports (docs/atoms.md), streamed like the native ones:
``/campaign/{id}/export/by-audience-member`` (JSON by default, or CSV) and
``/campaign/{id}/logs/export`` (CSV).

The JSON is Atoms' object (``campaign``, ``exportedAt``, ``totalAudienceMembers``,
``data``: per member its first call and its retries); the CSVs are the native exports'
(Atoms leaves their columns to "your dashboard's export"). A call log for an unknown
campaign answers 400, as Atoms documents for that route; the other 404.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from dialer.api.atoms.envelope import AtomsRoute, failure
from dialer.api.atoms.schemas import ErrorEnvelope
from dialer.api.auth import org_client
from dialer.api.export_slots import ExportSlots, export_slots
from dialer.api.v1.exports import CALLS_CSV, CONTACTS_CSV, attachment
from dialer.client import DialerClient
from dialer.errors import NotFound
from dialer.views import CallView, ContactResult

Client = Annotated[DialerClient, Depends(org_client)]
Slots = Annotated[ExportSlots, Depends(export_slots)]
BUSY_RESPONSE = {"model": ErrorEnvelope,
                 "description": "Too many exports being read at once (see `Retry-After`)"}
router = APIRouter(route_class=AtomsRoute, responses={
    401: {"model": ErrorEnvelope, "description": "Missing or invalid API key"}})

# Atoms' call statuses (its conversation logs): ours, and an ended call by its outcome.
CALL_STATUS = {"queued": "in_queue", "dialing": "processing", "placed": "in_progress"}
ENDED_STATUS = {"answered": "completed", "failed": "failed"}

MEMBER_EXAMPLE = {
    "campaign": "March renewals", "exportedAt": "2026-03-02T18:00:00+00:00",
    "totalAudienceMembers": 1, "data": [{
        "audienceMemberId": "1", "audienceMemberData": {"phoneNumber": "+14155550123",
                                                        "name": "Ann"},
        "phoneNumber": "+14155550123",
        "originalCall": {"callId": "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
                         "status": "no_answer", "duration": 0, "from": "+14155550100",
                         "to": "+14155550123", "disconnectionReason": "no_answer",
                         "callCost": 0.0, "recordingUrl": None, "transcriptUrl": None,
                         "createdAt": "2026-03-02T14:00:00+00:00", "retryAttemptNumber": 0},
        "retryAttempts": [], "totalAttempts": 1, "finalStatus": "retry_scheduled",
        "totalCallDuration": 0, "totalCallCost": 0.0}]}


def call_log(call: CallView) -> dict[str, Any]:
    """A call as an Atoms conversation log shows it (the fields we have)."""
    status = (ENDED_STATUS.get(call.outcome or "", "no_answer") if call.status == "ended"
              else CALL_STATUS.get(call.status, call.status))
    return {"callId": call.call_id, "status": status, "duration": call.duration_s or 0,
            "from": call.from_number, "to": call.phone,
            "disconnectionReason": call.detail or call.outcome, "callCost": call.cost,
            "recordingUrl": call.recording_url, "transcriptUrl": call.transcript_url,
            "createdAt": call.queued_at.isoformat() if call.queued_at else None,
            "retryAttemptNumber": call.attempt - 1}


def member(result: ContactResult) -> dict[str, Any]:
    calls = [call_log(c) for c in result.calls or []]
    data = dict(result.attributes)
    data["phoneNumber"] = result.phone
    if result.name is not None:
        data["name"] = result.name
    return {"audienceMemberId": str(result.contact_id), "audienceMemberData": data,
            "phoneNumber": result.phone, "originalCall": calls[0] if calls else None,
            "retryAttempts": calls[1:], "totalAttempts": result.attempts,
            "finalStatus": result.status, "totalCallDuration": result.total_duration_s or 0,
            "totalCallCost": result.total_cost or 0}


def _members_json(head: dict[str, Any], results: Iterator[ContactResult]) -> Iterator[str]:
    yield json.dumps(head)[:-1] + ', "data": ['
    for n, result in enumerate(results):
        yield ("" if n == 0 else ", ") + json.dumps(member(result))
    yield "]}\n"


@router.get("/campaign/{id}/export/by-audience-member", response_class=StreamingResponse,
            tags=["Campaigns"], summary="Export campaign results grouped by audience member",
            responses={200: {"description": "The export, streamed", "content": {
                "application/json": {"example": MEMBER_EXAMPLE},
                "text/csv": {"example": CONTACTS_CSV}}},
                400: {"model": ErrorEnvelope, "description": "A bad `format`"},
                404: {"model": ErrorEnvelope,
                      "description": "Unknown campaign, or another organisation's"},
                429: BUSY_RESPONSE})
def export_by_audience_member(
    client: Client, id: str, slots: Slots,
    format: Annotated[Literal["json", "csv"], Query(description="`json` (default) or "
                                                                 "`csv`")] = "json",
) -> StreamingResponse:
    if format == "csv":
        return StreamingResponse(slots.guard(client.org.id,
                                             client.export_contacts(id, format="csv")),
                                 media_type="text/csv; charset=utf-8",
                                 headers=attachment(f"campaign-{id}-contacts.csv"))
    detail = client.get(id)
    head = {"campaign": detail.campaign.name, "exportedAt": client.now().isoformat(),
            "totalAudienceMembers": detail.metrics.total_participants}
    return StreamingResponse(slots.guard(client.org.id, _members_json(
        head, client.contact_results(id, with_calls=True))),
                             media_type="application/json")


@router.get("/campaign/{id}/logs/export", response_class=StreamingResponse,
            tags=["Campaigns"], summary="Export campaign call logs (CSV, one row per call)",
            responses={200: {"description": "The call log, streamed",
                             "content": {"text/csv": {"example": CALLS_CSV}}},
                       400: {"model": ErrorEnvelope,
                             "description": "Unknown campaign, or another organisation's"},
                       429: BUSY_RESPONSE})
def export_logs(client: Client, id: str, slots: Slots) -> Response:
    try:
        chunks = client.export_calls(id)
    except NotFound:
        return failure(400, [f"no campaign found for id {id}"])
    return StreamingResponse(slots.guard(client.org.id, chunks),
                             media_type="text/csv; charset=utf-8",
                             headers=attachment(f"campaign-{id}-calls.csv"))
