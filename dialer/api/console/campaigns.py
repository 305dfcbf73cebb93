"""The campaigns list (issue 15: counts by status, filter, search, sort)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dialer.api.console.render import page
from dialer.api.console.session import Session

router = APIRouter()


@router.get("/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, console: Session) -> HTMLResponse:
    listed = console.client.campaign_page(page=1, limit=50)
    return page(request, "campaigns/list.html", console, listed=listed)
