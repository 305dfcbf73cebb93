"""A campaign's exports, streamed: per contact (JSON or CSV) and the call log (CSV).

The client checks the campaign before the first chunk (404 / 422 still possible); the
rows then stream from a server-side cursor as the response is written, never as a whole
table in memory (dialer/service/call_log.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.api.export_slots import ExportSlots, export_slots

router = APIRouter(prefix="/campaigns/{campaign_id}/export", tags=["campaigns"])
Slots = Annotated[ExportSlots, Depends(export_slots)]

CONTACTS_EXAMPLE = {"campaign_id": "5f0c6a2e-8d1b-4c3f-9a7e-2b6d1e4f8a90",
                    "campaign": "March renewals", "exported_at": "2026-03-02T18:00:00+00:00",
                    "total": 1, "contacts": [{
                        "contact_id": 1, "phone": "+14155550123", "name": "Ann",
                        "attributes": {"plan": "gold"}, "status": "completed",
                        "last_outcome": "answered", "answered_phone": "+14155550123",
                        "attempts": 2, "total_duration_s": 42.5, "total_cost": 0.0425,
                        "goal_achieved": True,
                        "last_attempt_at": "2026-03-02T09:30:00-05:00"}]}
CONTACTS_CSV = ("contact_id,phone,name,status,last_outcome,answered_phone,attempts,"
                "total_duration_s,total_cost,goal_achieved,last_attempt_at\r\n"
                "1,+14155550123,Ann,completed,answered,+14155550123,2,42.5,0.0425,true,"
                "2026-03-02T14:30:00+00:00\r\n")
CALLS_CSV = ("call_id,contact_id,phone,phone_index,from_number,status,outcome,goal_achieved,"
             "detail,provider_call_id,attempt,cycle,execution_number,queued_at,placed_at,"
             "ended_at,duration_s,cost,recording_url,transcript_url\r\n"
             "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8,1,+14155550123,0,+14155550100,ended,"
             "answered,true,,CA123,1,0,1,2026-03-02T14:00:00+00:00,"
             "2026-03-02T14:00:01+00:00,2026-03-02T14:00:44+00:00,42.5,0.0425,"
             "https://rec.example/1.wav,\r\n")


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _ok(examples: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "The export, streamed", "content": {
        media: {"example": example} for media, example in examples.items()}},
        **responses(404, 422, 429)}


@router.get("/by-audience-member", response_class=StreamingResponse,
            summary="Per contact: attempts, final status, last outcome, totals (JSON or CSV)",
            description="One entry per contact of the campaign, by contact id: its calls "
                        "of every cycle counted and summed. CSV cells that a spreadsheet "
                        "would run as a formula start with `'` (phone numbers excepted).",
            responses=_ok({"application/json": CONTACTS_EXAMPLE, "text/csv": CONTACTS_CSV}))
def by_audience_member(campaign_id: str, client: Client, slots: Slots,
                       format: Annotated[Literal["json", "csv"], Query(
                           description="`json` (default) or `csv`")] = "json"
                       ) -> StreamingResponse:
    chunks = slots.guard(client.org.id, client.export_contacts(campaign_id, format=format))
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return StreamingResponse(chunks, media_type=media, headers=attachment(
        f"campaign-{campaign_id}-contacts.{format}"))


@router.get("/calls.csv", response_class=StreamingResponse,
            summary="The call log: one CSV row per call attempt",
            description="Every call of the campaign in the order it was queued, with the "
                        "fields of `CallView`; cost as the provider reported it.",
            responses=_ok({"text/csv": CALLS_CSV}))
def calls_csv(campaign_id: str, client: Client, slots: Slots) -> StreamingResponse:
    return StreamingResponse(slots.guard(client.org.id, client.export_calls(campaign_id)),
                             media_type="text/csv; charset=utf-8",
                             headers=attachment(f"campaign-{campaign_id}-calls.csv"))
