"""The Atoms-compatible routes, mounted under /atoms/v1 (docs/atoms.md).

Thin: parse (schemas.py), call the client, shape the answer (mapping.py).
Errors leave in Atoms' envelope (envelope.AtomsRoute).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from dialer.api.atoms import mapping, uploads
from dialer.api.atoms import schemas as s
from dialer.api.atoms.envelope import AtomsRoute, PayloadTooLarge
from dialer.api.auth import org_client
from dialer.client import DialerClient
from dialer.errors import NotFound, ValidationError
from dialer.statuses import CampaignStatus
from dialer.views import AudienceMember, AudienceSummary

Client = Annotated[DialerClient, Depends(org_client)]

MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000  # with the largest page size, an offset PostgreSQL still reads
DNC_MAX_PAGE_SIZE = 500

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": s.ErrorEnvelope, "description": text} for code, text in (
        (400, "Bad request: every offending field, as `field: reason`"),
        (401, "Missing or invalid API key"),
        (404, "Unknown id, or another organisation's"))}

router = APIRouter(route_class=AtomsRoute, responses=_ERRORS)


def _searchable(terms: dict[str, str | None]) -> None:
    """PostgreSQL text cannot hold NUL: a term with one matches nothing we store, and
    would fail the query, so it is refused as bad input."""
    bad = [(name, "must not contain NUL characters") for name, term in terms.items()
           if term is not None and "\x00" in term]
    if bad:
        raise ValidationError(bad)


# -- campaigns ----------------------------------------------------------------------


@router.get("/campaign", response_model=s.Envelope[s.CampaignList], tags=["Campaigns"],
            summary="Retrieve all campaigns",
            responses=s.example(200, s.Envelope[s.CampaignList], s.CAMPAIGN_LIST_EXAMPLE))
def list_campaigns(
    client: Client, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    offset: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE,
                                 description="Campaigns per page")] = 5,
    status: s.AtomsStatus | None = None, search: str | None = None,
    sort_field: Annotated[Literal["createdAt", "updatedAt"],
                          Query(alias="sortField")] = "createdAt",
    sort_order: Annotated[s.SortOrder, Query(alias="sortOrder")] = "desc",
) -> Any:
    _searchable({"search": search})
    field = "created_at" if sort_field == "createdAt" else "updated_at"
    shown = client.campaign_page(page=page, limit=offset, status=mapping.our_status(status),
                                 search=search, sort=_sort(field, sort_order))
    facts = client.campaign_facts([c.id for c in shown.campaigns])
    return {"data": {
        "campaigns": [mapping.campaign_out(c, facts[c.id], org_id=client.org.id)
                      for c in shown.campaigns],
        "pagination": mapping.pagination(shown.matching, page=page, offset=offset),
        "total_campaign_count": shown.total}}


@router.post("/campaign", status_code=201, response_model=s.Envelope[s.CampaignCreated],
             tags=["Campaigns"], summary="Create a campaign",
             responses=s.example(201, s.Envelope[s.CampaignCreated],
                                 s.CAMPAIGN_CREATED_EXAMPLE))
def create_campaign(client: Client, body: s.CampaignCreate) -> Any:
    view = client.create_campaign(mapping.spec_from_create(body))
    facts = client.campaign_facts([view.id])[view.id]
    return {"data": mapping.campaign_created(view, facts, org_id=client.org.id)}


@router.get("/campaign/{id}", response_model=s.Envelope[s.CampaignDetailOut],
            tags=["Campaigns"], summary="Get a campaign with its events and metrics",
            responses=s.example(200, s.Envelope[s.CampaignDetailOut],
                                s.CAMPAIGN_DETAIL_EXAMPLE))
def get_campaign(client: Client, id: str) -> Any:
    detail = client.get(id)
    events = client.events(id)
    facts = client.campaign_facts([id])[id]
    return {"data": {
        "campaign": mapping.campaign_out(detail.campaign, facts, org_id=client.org.id),
        "events": [mapping.event_out(e, n) for n, e in enumerate(events, start=1)],
        "metrics": detail.metrics.model_dump()}}


@router.delete("/campaign/{id}", response_model=s.StatusOnly, tags=["Campaigns"],
               summary="Delete a campaign (pause or stop it first)",
               responses=s.example(200, s.StatusOnly, s.STATUS_ONLY_EXAMPLE))
def delete_campaign(client: Client, id: str) -> Any:
    client.delete(id)
    return {}


@router.post("/campaign/{id}/start", status_code=202, response_model=s.Envelope[s.StartedOut],
             tags=["Campaigns"], summary="Start or resume a campaign",
             responses=s.example(202, s.Envelope[s.StartedOut], s.STARTED_EXAMPLE))
def start_campaign(client: Client, id: str) -> Any:
    if client.get(id).campaign.status == CampaignStatus.PAUSED:
        client.resume(id)
    else:
        client.start(id)
    # Ours is running when this answers; Atoms' clients look for a task id all the same.
    return {"data": {"task_id": str(uuid.uuid4()), "campaign_id": id}}


@router.post("/campaign/{id}/pause", response_model=s.StatusOnly, tags=["Campaigns"],
             summary="Pause a campaign",
             responses=s.example(200, s.StatusOnly, s.STATUS_ONLY_EXAMPLE))
def pause_campaign(client: Client, id: str) -> Any:
    client.pause(id)
    return {}


@router.post("/campaign/{id}/stop", response_model=s.StatusOnly, tags=["Campaigns"],
             summary="Stop a campaign for good (its waiting contacts are cancelled)",
             responses=s.example(200, s.StatusOnly, s.STATUS_ONLY_EXAMPLE))
def stop_campaign(client: Client, id: str) -> Any:
    client.stop(id)
    return {}


# -- audiences ----------------------------------------------------------------------


def _audience_out(row: AudienceSummary, org_id: str) -> dict[str, Any]:
    return {"_id": row.id, "name": row.name, "organization": org_id,
            "created_at": row.created_at, "updated_at": row.created_at,
            "member_count": row.count}


@router.get("/audience", response_model=s.Envelope[list[s.AudienceListItem]],
            tags=["Audience"], summary="Get all audiences",
            responses=s.example(200, s.Envelope[list[s.AudienceListItem]],
                                s.AUDIENCE_LIST_EXAMPLE))
def list_audiences(client: Client) -> Any:
    used = client.audience_campaigns()
    return {"data": [{
        **_audience_out(a, client.org.id),
        "has_campaigns": bool(used.get(a.id)),
        "campaigns": [{"_id": c.id, "name": c.name, "status": mapping.atoms_status(c.status),
                       "created_at": c.created_at} for c in used.get(a.id, [])],
    } for a in client.audiences()]}


@router.post("/audience", response_model=s.Envelope[s.AudienceCreated], tags=["Audience"],
             summary="Create an audience from a CSV upload",
             responses={**s.example(200, s.Envelope[s.AudienceCreated],
                                    s.AUDIENCE_CREATED_EXAMPLE),
                        413: {"model": s.ErrorEnvelope,
                              "description": "CSV or audience over the limits"}},
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                 "example": s.AUDIENCE_UPLOAD_EXAMPLE}}}})
def create_audience(
    client: Client, file: Annotated[UploadFile, File(description="CSV, at most 5 MB")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    phone_number_column_name: Annotated[str, Form(alias="phoneNumberColumnName")],
    description: Annotated[str | None, Form()] = None,
    identifier_column_name: Annotated[str | None, Form(alias="identifierColumnName")] = None,
) -> Any:
    max_bytes = client.settings.api_max_csv_bytes
    raw = file.file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"CSV file exceeds the limit of {max_bytes} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError([("file", "not UTF-8 text (save the file as CSV UTF-8)")]) from None
    csv_text, rows = uploads.csv_for_import(text, phone_column=phone_number_column_name,
                                            identifier_column=identifier_column_name or None)
    max_members = client.settings.api_max_audience_members
    if rows > max_members:
        raise PayloadTooLarge(f"Audience cannot exceed {max_members} members")
    with _temporary_csv(csv_text) as path:
        created = client.create_audience_from_csv(name, path)
    row = client.audience(created.id)
    return {"data": {
        **_audience_out(row, client.org.id), "description": description,
        "identifier_column_name": identifier_column_name,
        "rejected": [{"row": r.index, "error": r.error} for r in created.rejected]}}


@router.get("/audience/{id}", response_model=s.Envelope[s.AudienceOut], tags=["Audience"],
            summary="Get audience by ID",
            responses=s.example(200, s.Envelope[s.AudienceOut], s.AUDIENCE_EXAMPLE))
def get_audience(client: Client, id: str) -> Any:
    return {"data": _audience_out(client.audience(id), client.org.id)}


@router.delete("/audience/{id}", response_model=s.Envelope[list[Any]], tags=["Audience"],
               summary="Delete an audience no campaign uses",
               responses=s.example(200, s.Envelope[list[Any]], s.AUDIENCE_DELETED_EXAMPLE))
def delete_audience(client: Client, id: str) -> Any:
    client.delete_audience(id)
    return {"data": []}


def _members(rows: list[AudienceMember]) -> list[dict[str, Any]]:
    return [{"_id": str(m.id), "data": mapping.member_data(m.phone, m.name, m.timezone,
                                                           m.attributes)} for m in rows]


@router.get("/audience/{id}/members", response_model=s.Envelope[s.MembersPage],
            tags=["Audience"], summary="Get audience members, a page at a time",
            responses=s.example(200, s.Envelope[s.MembersPage], s.MEMBERS_PAGE_EXAMPLE))
def get_members(client: Client, id: str, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                offset: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE,
                                             description="Members per page")] = 5) -> Any:
    shown = client.audience_members(id, page=page, limit=offset)
    paging = mapping.pagination(shown.total, page=page, offset=offset)
    return {"data": {"members": _members(shown.members), "total_count": shown.total,
                     "total_pages": paging["total_pages"], "has_more": paging["has_more"]}}


@router.post("/audience/{id}/members", response_model=s.Envelope[list[s.MembersAdded]],
             tags=["Audience"], summary="Add members to an audience",
             responses={**s.example(200, s.Envelope[list[s.MembersAdded]],
                                    s.MEMBERS_ADDED_EXAMPLE),
                        413: {"model": s.ErrorEnvelope,
                              "description": "The audience would exceed its limit"}})
def add_members(client: Client, id: str, body: s.MembersAdd) -> Any:
    csv_text = uploads.members_csv(body.members)
    held = client.audience(id).count
    limit = client.settings.api_max_audience_members
    if held + len(body.members) > limit:
        raise PayloadTooLarge(
            f"Cannot add {len(body.members)} members. You currently have {held} members in "
            f"this audience. The maximum limit is {limit} members. You can add up to "
            f"{max(0, limit - held)} more members.")
    with _temporary_csv(csv_text) as path:
        report = client.import_contacts(id, path)
    # Rows are CSV rows (the header is row 1): member n (from 1) is row n + 1.
    rejected = [{"row": r.row - 1, "error": r.error} for r in report.rejected]
    return {"data": [{"message": f"{report.imported} members added successfully",
                      "data": {"added": report.imported, "skipped": len(rejected),
                               "rejected": rejected}}]}


@router.delete("/audience/{id}/members", response_model=s.Envelope[s.DeletedCount],
               tags=["Audience"],
               summary="Delete members of an audience (also while its campaigns run)",
               description="Members are taken out of the audience and of its campaigns that "
                           "have not finished (not yet dialed: canceled); their call history "
                           "is kept.",
               responses=s.example(200, s.Envelope[s.DeletedCount], s.MEMBERS_DELETED_EXAMPLE))
def delete_members(client: Client, id: str, body: Annotated[s.MembersDelete, Body()]) -> Any:
    return {"data": {"deleted_count": client.remove_audience_members(id, body.member_ids)}}


@router.get("/audience/{id}/members/search", response_model=s.Envelope[s.SearchResult],
            tags=["Audience"], summary="Search audience members",
            responses=s.example(200, s.Envelope[s.SearchResult], s.SEARCH_EXAMPLE),
            description="`query` searches every field; any other parameter names a field "
                        "(`phoneNumber`, `name`, or a CSV column) to search in. One or the "
                        "other, not both.")
def search_members(client: Client, request: Request, id: str,
                   query: str | None = None) -> Any:
    fields = {k: v for k, v in request.query_params.items() if k != "query"}
    if query is None and not fields:
        raise ValidationError([("", "At least one search parameter is required. Use 'query' "
                                    "for general search across all fields, or use "
                                    "field-specific searches like 'firstName=john' or "
                                    "'phoneNumber=123456'.")])
    if query is not None and fields:
        raise ValidationError([("query", "use either a general search or field-specific "
                                         "searches, not both")])
    _searchable({"query": query, **fields, **{f"{k} (its name)": k for k in fields}})
    limit = client.settings.api_max_audience_members
    rows = client.search_audience_members(id, query=query, fields=fields, limit=limit)
    return {"data": {"members": _members(rows), "search_info": {
        "search_type": "general" if query is not None else "multiple",
        "search_term": query if query is not None else " ".join(fields.values()),
        "search_fields": list(fields), "total_results": len(rows)}}}


# -- phone numbers, DNC -----------------------------------------------------------


@router.get("/product/phone-numbers", response_model=s.Envelope[list[s.PhoneNumberOut]],
            tags=["Phone Numbers"], summary="Get the organisation's caller IDs",
            responses=s.example(200, s.Envelope[list[s.PhoneNumberOut]],
                                s.PHONE_NUMBERS_EXAMPLE))
def phone_numbers(client: Client) -> Any:
    return {"data": [mapping.phone_number_out(p) for p in client.phone_numbers()]}


@router.get("/dnc", response_model=s.Envelope[s.DncPage], tags=["DNC"],
            summary="List the organisation's do-not-call entries",
            responses=s.example(200, s.Envelope[s.DncPage], s.DNC_EXAMPLE))
def list_dnc(
    client: Client,
    agent_id: Annotated[str | None, Query(
        alias="agentId", description="Accepted; our list is organisation-wide, so every "
        "entry applies to every agent")] = None,
    search: str | None = None,
    sort_field: Annotated[Literal["createdAt", "phoneNumber"],
                          Query(alias="sortField")] = "createdAt",
    sort_order: Annotated[s.SortOrder, Query(alias="sortOrder")] = "desc",
    page: Annotated[str, Query(pattern=r"^\s*\d{1,9}\s*$")] = "1",
    offset: Annotated[str, Query(pattern=r"^\s*-?\d{1,9}\s*$",
                                 description="Page size; clamped to 1-500")] = "50",
) -> Any:
    _searchable({"search": search})
    number = max(1, int(page))
    size = min(DNC_MAX_PAGE_SIZE, max(1, int(offset)))
    field = "added_at" if sort_field == "createdAt" else "phone"
    shown = client.dnc_entries(page=number, limit=size, search=search,
                               sort=_sort(field, sort_order))
    return {"data": {"entries": [{
        "id": r.phone, "org_id": client.org.id, "phone_number": r.phone,
        "created_at": r.added_at, "updated_at": r.added_at} for r in shown.entries],
        "pagination": mapping.pagination(shown.total, page=number, offset=size)}}


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)
def unknown(path: str) -> JSONResponse:
    """Anything else under /atoms/v1 is not part of this surface: Atoms' 404 envelope."""
    raise NotFound(f"no route /{path} on this Atoms-compatible surface")


def _sort(field: str, order: str) -> str:
    """The client's sort: a field, largest first, ``-`` before it for ascending."""
    return field if order == "desc" else f"-{field}"


@contextmanager
def _temporary_csv(text: str) -> Iterator[Path]:
    """The CSV our import reads from a path, removed afterwards."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8",
                                     newline="") as handle:
        handle.write(text)
    try:
        yield Path(handle.name)
    finally:
        Path(handle.name).unlink(missing_ok=True)
