"""Audiences: a JSON list of contacts, or a CSV file uploaded as multipart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.bodies import parse_json, save_csv
from dialer.api.errors import ApiError, responses
from dialer.api.schemas import AudienceIn
from dialer.api.text import CONTAINS_NUL
from dialer.settings import Settings
from dialer.views import AudienceSummary, AudienceView

router = APIRouter(prefix="/audiences", tags=["audiences"])

CSV_FORM = {"type": "object", "required": ["name", "file"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "file": {"type": "string", "format": "binary",
             "description": "CSV with a header row: `phone` required; `name`, `timezone`; "
                            "other columns become attributes"}}}
# A form without its file part is still a form: answered 422 naming the file.
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/AudienceIn"}},
    "multipart/form-data": {"schema": CSV_FORM,
                            "encoding": {"file": {"contentType": "text/csv"}}}}}}


@router.post("", status_code=201, response_model=AudienceView, openapi_extra=BODY,
             summary="Create an audience from JSON contacts or a CSV upload",
             description="JSON `{name, contacts}` or multipart `name` + `file` (CSV). Bad "
                         "rows are reported in `rejected` (`index`: the contact's position, "
                         "or the CSV's row with the header as row 1); good rows are kept.",
             responses={201: ex.ok(ex.AUDIENCE, "Created"), **responses(400, 413, 422)})
async def create_audience(request: Request, client: Client) -> AudienceView:
    settings: Settings = request.app.state.settings
    if request.headers.get("content-type", "").startswith(FORMS):
        return await _from_csv(request, client, settings)
    body = parse_json(AudienceIn, await request.body())
    if len(body.contacts) > settings.api_max_audience_members:
        raise ApiError(413, [("contacts", f"more than {settings.api_max_audience_members} "
                                          "contacts in one audience")])
    return await run_in_threadpool(client.create_audience, body.name, body.contacts)


async def _from_csv(request: Request, client: Client, settings: Settings) -> AudienceView:
    async with request.form(max_files=1, max_fields=10) as form:
        name, upload = form.get("name"), form.get("file")
        errors = []
        if not isinstance(name, str) or not name.strip():
            errors.append(("name", "a non-empty form field is required"))
        elif "\x00" in name:
            errors.append(("name", CONTAINS_NUL))
        if not isinstance(upload, UploadFile):
            errors.append(("file", "a CSV file part is required"))
        if errors:
            raise ApiError(422, errors)
        assert isinstance(name, str) and isinstance(upload, UploadFile)
        path = await run_in_threadpool(save_csv, upload,
                                       max_bytes=settings.api_max_csv_bytes,
                                       max_rows=settings.api_max_audience_members)
    try:
        return await run_in_threadpool(client.create_audience_from_csv, name, path)
    finally:
        path.unlink(missing_ok=True)


@router.get("", response_model=list[AudienceSummary], summary="List the audiences",
            responses={200: ex.ok([ex.AUDIENCE_SUMMARY])})
def audiences(client: Client) -> list[AudienceSummary]:
    return client.audiences()
