"""The campaigns list (issue 15): counts by status as filter links, search by name, sort
by created or updated, a page at a time, each row's audience, agent, status and progress.

The search form is a plain GET form; htmx re-fetches the same page as the person types
and swaps in only the results (``hx-select``), so without script it still works."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dialer.api.console.charts import page_count
from dialer.api.console.render import page
from dialer.api.console.session import Session
from dialer.statuses import CAMPAIGN_STATUSES

router = APIRouter()

PAGE_SIZE = 20
# What the sort select offers (``campaign_page``'s sorts: newest first, "-" ascending).
SORTS = {"created_at": "Newest first", "-created_at": "Oldest first",
         "updated_at": "Recently updated", "-updated_at": "Least recently updated"}


@router.get("/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, console: Session,
                  status: Annotated[str, Query(max_length=20)] = "",
                  q: Annotated[str, Query(max_length=200)] = "",
                  sort: Annotated[str, Query(max_length=20)] = "created_at",
                  page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1
                  ) -> HTMLResponse:
    status = status if status in CAMPAIGN_STATUSES else ""
    sort = sort if sort in SORTS else "created_at"
    search = q.replace("\x00", "").strip()  # the service refuses a NUL: none is typed
    listed = console.client.campaign_page(page=page_number, limit=PAGE_SIZE,
                                          status=status or None, search=search or None,
                                          sort=sort)
    facts = console.client.campaign_facts([c.id for c in listed.campaigns])
    return page(request, "campaigns/list.html", console, listed=listed, facts=facts,
                counts=console.client.campaign_status_counts(), status=status, q=search,
                sort=sort, sorts=SORTS, page_number=page_number,
                pages=page_count(listed.matching, PAGE_SIZE),
                query={"status": status, "q": search, "sort": sort})
