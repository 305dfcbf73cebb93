"""Audiences (issue 15): the organisation's audiences with their counts, a CSV upload
(htmx with an upload progress bar; a plain multipart POST without script) reporting the
contacts imported and the rejected rows (downloadable as CSV), and one audience's
members, paged and searched, removable.

The upload takes the path of the HTTP API's (``api/v1/audiences.py``): the file is
saved to a temporary file within the same size and row limits (``save_csv``), then
imported by ``create_audience_from_csv`` in one transaction. The rejected rows are
offered as a ``data:`` link (``<a download>``), built from the upload while it is still
on disk: nothing is kept on the server after the answer. The link carries at most
``DOWNLOAD_MAX_BYTES`` (Chromium opens no URL past 2 MB); the page says when it is cut.

``upload`` is async (the file is read as it arrives); everything that reads the
database runs in the threadpool."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from dialer.api.bodies import save_csv
from dialer.api.console.charts import page_count
from dialer.api.console.rejected_rows import data_uri, rejected_rows_download
from dialer.api.console.render import page, refusal_status, see_result
from dialer.api.console.session import Session
from dialer.api.errors import ApiError
from dialer.errors import ValidationError
from dialer.settings import Settings
from dialer.views import AudienceView, RejectedContact

router = APIRouter()

MEMBERS_PAGE = 50
# The rejected rows listed on the page; the download holds them all.
REJECTED_SHOWN = 200
# The most CSV the rejected rows' download link carries (1.33 MB as base64).
DOWNLOAD_MAX_BYTES = 1_000_000


@router.get("/audiences", response_class=HTMLResponse)
def audience_list(request: Request, console: Session) -> HTMLResponse:
    return _page(request, console)


@router.post("/audiences", response_class=HTMLResponse)
async def upload(request: Request, console: Session) -> Response:
    settings: Settings = request.app.state.settings
    try:
        # The limits hold for an htmx post (its CSRF token is a header); a plain form's
        # is read first by the session's CSRF check, with Starlette's defaults.
        form = await request.form(max_files=1, max_fields=10)
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        # Past the whole request's cap (BodySizeLimit): said next to the file all the same.
        return await _threadpool_page(request, console, errors={"file": _too_large(settings)})
    try:
        name, file = form.get("name"), form.get("file")
        name = name.strip() if isinstance(name, str) else ""
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = "Give the audience a name."
        if not isinstance(file, UploadFile) or not file.filename:
            errors["file"] = "Choose a CSV file to upload."
        if errors:
            return await _threadpool_page(request, console, errors=errors, name=name)
        assert isinstance(file, UploadFile)
        try:
            path = await run_in_threadpool(save_csv, file,
                                           max_bytes=settings.api_max_csv_bytes,
                                           max_rows=settings.api_max_audience_members)
        except ApiError as exc:
            return await _threadpool_page(request, console, name=name,
                                          errors={"file": _sentence(exc.errors)})
    finally:
        await form.close()
    try:
        audience, download = await run_in_threadpool(_import, console, name, path)
    except ValidationError as exc:
        named = [(f, m) for f, m in exc.errors if f == "name"]
        errors = {"name": _sentence(named)} if named else {}
        if len(named) < len(exc.errors):
            errors["file"] = _sentence([(f, m) for f, m in exc.errors if f != "name"])
        return await _threadpool_page(request, console, errors=errors, name=name)
    finally:
        path.unlink(missing_ok=True)
    return await _threadpool_page(request, console, result=audience, download=download,
                                  shown=audience.rejected[:REJECTED_SHOWN])


class Download(NamedTuple):
    """The rejected rows' download link and how many rows it lists."""

    uri: str
    rows: int


def _import(console: Session, name: str, path: Path) -> tuple[AudienceView, Download | None]:
    """The audience imported, and its rejected rows as a download link (None: none)."""
    audience = console.client.create_audience_from_csv(name, path)
    if not audience.rejected:
        return audience, None
    text, rows = rejected_rows_download(path, audience.rejected, max_bytes=DOWNLOAD_MAX_BYTES)
    return audience, Download(data_uri(text), rows)


async def _threadpool_page(request: Request, console: Session, **context: Any) -> HTMLResponse:
    return await run_in_threadpool(_page, request, console, **context)


def _too_large(settings: Settings) -> str:
    return f"the file is larger than the {settings.api_max_csv_bytes} bytes an upload may be"


def _sentence(errors: Sequence[tuple[str | None, str]]) -> str:
    """The import's messages for the file field (``phone: ...`` keeps its column)."""
    return "; ".join(m if f in (None, "file", "csv_path") else f"{f}: {m}" for f, m in errors)


def _page(request: Request, console: Session, *, errors: dict[str, str] | None = None,
          name: str = "", result: AudienceView | None = None, download: Download | None = None,
          shown: list[RejectedContact] | None = None) -> HTMLResponse:
    status = refusal_status(request, 422) if errors else 200
    return page(request, "audiences/list.html", console, status_code=status,
                audiences=console.client.audiences(), used_by=console.client.audience_campaigns(),
                errors=errors or {}, name=name,
                max_bytes=request.app.state.settings.api_max_csv_bytes,
                max_rows=request.app.state.settings.api_max_audience_members,
                result=result, download=download, shown=shown or [],
                download_max_bytes=DOWNLOAD_MAX_BYTES)


@router.get("/audiences/{audience_id}", response_class=HTMLResponse)
def audience_members(request: Request, console: Session, audience_id: str,
                     q: Annotated[str, Query(max_length=200)] = "",
                     page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                     removed: Annotated[int | None, Query(ge=0)] = None) -> HTMLResponse:
    audience = console.client.audience(audience_id)
    search = q.replace("\x00", "").strip()
    members = console.client.audience_members(audience.id, page=page_number,
                                              limit=MEMBERS_PAGE, search=search or None)
    return page(request, "audiences/members.html", console, audience=audience,
                members=members, q=search, page_number=page_number, removed=removed,
                pages=page_count(members.total, MEMBERS_PAGE), query={"q": search})


@router.post("/audiences/{audience_id}/remove", response_class=HTMLResponse)
async def remove_members(request: Request, console: Session, audience_id: str) -> Response:
    form = await request.form()
    ids = [v for v in form.getlist("member") if isinstance(v, str)]
    audience = await run_in_threadpool(console.client.audience, audience_id)
    removed = await run_in_threadpool(console.client.remove_audience_members, audience.id, ids)
    return see_result(request, f"/console/audiences/{audience.id}?removed={removed}")
