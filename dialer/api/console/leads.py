"""A campaign's leads and its call log (issue 15): participants a page at a time with a
status filter and the manual requeue / close (docs/contract.md §2c); the calls with
their outcome, duration and the provider's recording and transcript links, filtered,
paged, and downloadable as the CSV export (§2d)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from dialer.api.console.charts import duration, page_count, web_link
from dialer.api.console.render import SECURITY_HEADERS, list_query, refusal_status, see_result
from dialer.api.console.render import page as render_page
from dialer.api.console.session import Session
from dialer.api.export_slots import ExportSlots, export_slots
from dialer.api.v1.exports import attachment
from dialer.client import DialerClient
from dialer.errors import InvalidTransition, ValidationError
from dialer.statuses import OUTCOMES, CallStatus, ParticipantStatus

router = APIRouter()
Slots = Annotated[ExportSlots, Depends(export_slots)]

LIMIT = 25
STEERED = {"requeue": "Requeued", "close": "Closed"}


def _leads_page(request: Request, console: Session, campaign_id: str, *, status: str | None,
                page_number: int, notice: str | None = None, error: str | None = None,
                selected: frozenset[int] = frozenset(), status_code: int = 200
                ) -> HTMLResponse:
    client = console.client
    listed = client.participant_page(campaign_id, page=page_number, limit=LIMIT,
                                     status=status or None)
    return render_page(request, "campaigns/leads.html", console, status_code=status_code,
                campaign=client.get(campaign_id).campaign, section="leads", listed=listed,
                pages=page_count(listed.total, LIMIT), status=status or "",
                statuses=tuple(ParticipantStatus), notice=notice, error=error,
                selected=selected)


@router.get("/campaigns/{campaign_id}/leads", response_class=HTMLResponse)
def campaign_leads(request: Request, console: Session, campaign_id: str,
                   status: str | None = None, page: int = 1, done: str | None = None,
                   count: int = 0) -> HTMLResponse:
    notice = None
    # Only what a steer can have done (at most a page of leads): a link cannot make the
    # page claim more.
    if done in STEERED and 0 <= count <= LIMIT:
        notice = f"{STEERED[done]} {count} lead{'' if count == 1 else 's'}."
    return _leads_page(request, console, campaign_id, status=status, page_number=page,
                       notice=notice)


@router.post("/campaigns/{campaign_id}/leads/{verb}", response_class=HTMLResponse)
def steer_leads(request: Request, console: Session, campaign_id: str, verb: str,
                contact_ids: Annotated[list[int] | None, Form()] = None,
                status: Annotated[str, Form()] = "", page: Annotated[int, Form()] = 1
                ) -> Response:
    """Requeue ("set to created") or close ("set to completed") the selected leads; back
    to the same page and filter with a notice, or this page again with the refusal."""
    if verb not in STEERED:
        return _leads_page(request, console, campaign_id, status=status, page_number=page,
                           error="Unknown action.", status_code=404)
    ids = contact_ids or []
    steer = {"requeue": DialerClient.requeue_participants,
             "close": DialerClient.close_participants}[verb]
    error = None
    if not ids:
        error = "Select at least one lead first."
    else:
        try:
            count = steer(console.client, campaign_id, ids)
        except (InvalidTransition, ValidationError) as exc:
            error = f"Not {STEERED[verb].lower()}: {exc}"
    if error is not None:
        return _leads_page(request, console, campaign_id, status=status, page_number=page,
                           error=error, selected=frozenset(ids),
                           status_code=refusal_status(request, 409))
    url = f"/console/campaigns/{campaign_id}/leads" + list_query(
        status=status, page=page, done=verb, count=count)
    return see_result(request, url)


@router.get("/campaigns/{campaign_id}/calls", response_class=HTMLResponse)
def campaign_calls(request: Request, console: Session, campaign_id: str,
                   status: str | None = None, outcome: str | None = None,
                   page: int = 1) -> HTMLResponse:
    client = console.client
    listed = client.call_page(campaign_id, page=page, limit=LIMIT, status=status or None,
                              outcome=outcome or None)
    return render_page(request, "campaigns/calls.html", console,
                 campaign=client.get(campaign_id).campaign, section="calls", listed=listed,
                 pages=page_count(listed.total, LIMIT), status=status or "",
                 outcome=outcome or "", statuses=tuple(CallStatus), outcomes=OUTCOMES,
                 duration=duration, web_link=web_link)


@router.get("/campaigns/{campaign_id}/calls.csv")
def campaign_calls_csv(console: Session, campaign_id: str, slots: Slots
                       ) -> StreamingResponse:
    """The call log export (/v1's, bounded by the same export slots): NotFound before
    any byte, then streamed from a server-side cursor."""
    chunks = slots.guard(console.org.id, console.client.export_calls(campaign_id))
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS, **attachment(f"campaign-{campaign_id}-calls.csv")})
