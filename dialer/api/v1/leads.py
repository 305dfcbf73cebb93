"""Leads while campaigns live: an audience's members listed, added and removed, contacts
added through a campaign, participants requeued or closed (docs/api.md "Leads")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.bodies import parse_json, save_csv
from dialer.api.errors import ApiError, responses
from dialer.api.schemas import ContactIdsIn, ContactsIn, CountOut, MemberIdsIn
from dialer.settings import Settings
from dialer.views import AudienceMembersPage, AudienceView, RejectedContact

router = APIRouter(tags=["leads"])

MEMBER = {"id": 1, "phone": "+14155550123", "name": "Ada", "timezone": "America/Los_Angeles",
          "attributes": {"plan": "gold"}}
ADDED = {"id": ex.AUDIENCE_ID, "name": "March renewals", "count": 1, "rejected": [
    {"index": 1, "phone": "+14155550123", "error": "duplicate phone in this audience"}]}
COUNT = ex.ok({"count": 2})
MAX_LIMIT = 1000
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
CSV_FORM = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary",
             "description": "CSV with a header row: `phone` required; `name`, `timezone`; "
                            "other columns become attributes"}}}
ADD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ContactsIn"}},
    "multipart/form-data": {"schema": CSV_FORM,
                            "encoding": {"file": {"contentType": "text/csv"}}}}}}


@router.get("/audiences/{audience_id}/members", response_model=AudienceMembersPage,
            summary="An audience's contacts, a page at a time (removed ones left out)",
            description="`search`: only contacts whose phone, name, time zone or an "
                        "attribute value contains it (case-insensitive); `total` counts them.",
            responses={200: ex.ok({"members": [MEMBER], "total": 1}), **responses(404, 422)})
def members(audience_id: str, client: Client,
            page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
            limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
            search: Annotated[str | None, Query(max_length=200)] = None
            ) -> AudienceMembersPage:
    return client.audience_members(audience_id, page=page, limit=limit, search=search)


@router.post("/audiences/{audience_id}/members", response_model=AudienceView,
             openapi_extra=ADD_BODY,
             summary="Add contacts to an audience: they join its campaigns that have not "
                     "finished",
             description="JSON `{contacts}` or a multipart CSV `file`. Bad rows and phones the "
                         "audience already has are in `rejected` (`index`: the contact's "
                         "position, or the CSV's row with the header as row 1); `count`: how "
                         "many were added. A removed contact comes back.",
             responses={200: ex.ok(ADDED), **responses(400, 404, 413, 422)})
async def add_members(audience_id: str, request: Request, client: Client) -> AudienceView:
    settings: Settings = request.app.state.settings
    if request.headers.get("content-type", "").startswith(FORMS):
        return await _from_csv(audience_id, request, client, settings)
    body = parse_json(ContactsIn, await request.body())
    _within_limit(body, settings)
    return await run_in_threadpool(client.add_contacts, audience_id, body.contacts)


async def _from_csv(audience_id: str, request: Request, client: Client,
                    settings: Settings) -> AudienceView:
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, [("file", "a CSV file part is required")])
        path = await run_in_threadpool(save_csv, upload, max_bytes=settings.api_max_csv_bytes,
                                       max_rows=settings.api_max_audience_members)
    try:
        summary = await run_in_threadpool(client.audience, audience_id)
        report = await run_in_threadpool(client.import_contacts, audience_id, path)
    finally:
        path.unlink(missing_ok=True)
    return AudienceView(id=summary.id, name=summary.name, count=report.imported,
                        rejected=[RejectedContact(index=r.row, phone=None, error=r.error)
                                  for r in report.rejected])


def _within_limit(body: ContactsIn, settings: Settings) -> None:
    if len(body.contacts) > settings.api_max_audience_members:
        raise ApiError(413, [("contacts", f"more than {settings.api_max_audience_members} "
                                          "contacts in one request")])


@router.delete("/audiences/{audience_id}/members", response_model=CountOut,
               summary="Remove contacts from an audience, also while campaigns use it",
               description="Kept with their calls and events, no longer listed, never "
                           "dialed again unless added again; participants not yet dialed are "
                           "canceled. `count`: how many were members (other ids are "
                           "ignored).",
               responses={200: COUNT, **responses(400, 404, 413, 422)})
def remove_members(audience_id: str, body: MemberIdsIn, client: Client) -> CountOut:
    return CountOut(count=client.remove_audience_members(audience_id, body.member_ids))


@router.post("/campaigns/{campaign_id}/contacts", response_model=AudienceView,
             summary="Add contacts to a campaign that has not finished (to its audience)",
             description="They join this campaign, while it runs too, and every other "
                         "campaign of its audience that has not finished. 409 once it is "
                         "completed, stopped or failed.",
             responses={200: ex.ok(ADDED), **responses(400, 404, 409, 413, 422)})
def add_campaign_contacts(campaign_id: str, body: ContactsIn, request: Request,
                          client: Client) -> AudienceView:
    _within_limit(body, request.app.state.settings)
    return client.add_campaign_contacts(campaign_id, body.contacts)


@router.post("/campaigns/{campaign_id}/participants/requeue", response_model=CountOut,
             summary='"Set to created": contacts pending again, attempts from zero',
             description="Dialed as soon as the calendar, DNC and caps allow (a paused "
                         "campaign on resume). 409 for a contact with a call in progress, a "
                         "removed contact, or a campaign that is completed, stopped or "
                         "failed; 422 naming `contact_ids` for contacts not in the campaign. "
                         "All or nothing.",
             responses={200: COUNT, **responses(400, 404, 409, 413, 422)})
def requeue(campaign_id: str, body: ContactIdsIn, client: Client) -> CountOut:
    return CountOut(count=client.requeue_participants(campaign_id, body.contact_ids))


@router.post("/campaigns/{campaign_id}/participants/close", response_model=CountOut,
             summary='"Set to completed": contacts never dialed again in this campaign',
             description="Refused like requeue. A running campaign whose every contact is "
                         "then done completes.",
             responses={200: COUNT, **responses(400, 404, 409, 413, 422)})
def close(campaign_id: str, body: ContactIdsIn, client: Client) -> CountOut:
    return CountOut(count=client.close_participants(campaign_id, body.contact_ids))
