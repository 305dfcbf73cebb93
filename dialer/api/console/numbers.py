"""Caller IDs (issue 15): the organisation's numbers, searched by their digits, added
(errors next to their field, from the same validation as the API), taken out of
rotation and back in, and removed (``remove_phone_number``: refused while a scheduled,
running or paused campaign lists the number; calls already placed keep it)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from dialer.api.console.render import page, refusal_status, see_result
from dialer.api.console.session import Session
from dialer.errors import InvalidTransition, ValidationError
from dialer.views import PhoneNumberView

router = APIRouter()

# What people type around a number's digits: "(212) 555-0100" searches "2125550100".
_PUNCTUATION = re.compile(r"[\s().\-/]")


def number_search(text: str) -> str:
    """A search term for phone numbers: trimmed, without spaces and punctuation, no NUL."""
    return _PUNCTUATION.sub("", text.replace("\x00", ""))


def matching(numbers: list[PhoneNumberView], search: str) -> list[PhoneNumberView]:
    """The numbers whose E.164 text contains ``search`` (see ``number_search``)."""
    return [n for n in numbers if search in n.number] if search else numbers


@router.get("/numbers", response_class=HTMLResponse)
def number_list(request: Request, console: Session,
                q: Annotated[str, Query(max_length=50)] = "",
                added: Annotated[str | None, Query(max_length=30)] = None,
                changed: Annotated[str | None, Query(max_length=30)] = None,
                removed: Annotated[bool, Query()] = False) -> HTMLResponse:
    return _page(request, console, q=q, added=added, changed=changed, removed=removed)


@router.post("/numbers", response_class=HTMLResponse)
def add_number(request: Request, console: Session,
               number: Annotated[str, Form(max_length=50)] = "",
               provider: Annotated[str, Form(max_length=100)] = "simulated",
               cps: Annotated[str, Form(max_length=20)] = "") -> Response:
    form = {"number": number, "provider": provider, "cps": cps}
    try:
        rate = float(cps) if cps.strip() else None
    except ValueError:
        return _page(request, console, form=form,
                     errors={"cps": "must be a number (calls per second)"})
    try:
        added = console.client.add_phone_number(number, provider=provider.strip(), cps=rate)
    except ValidationError as exc:
        return _page(request, console, form=form, errors=dict(exc.errors))
    return see_result(request, "/console/numbers?" + urlencode({"added": added.number}))


@router.post("/numbers/{number_id}/active", response_class=HTMLResponse)
async def set_active(request: Request, console: Session, number_id: str) -> Response:
    form = await request.form()
    active = form.get("active") == "true"
    changed = await run_in_threadpool(console.client.set_phone_number_active, number_id,
                                      active)
    return see_result(request, "/console/numbers?" + urlencode({"changed": changed.number}))


@router.post("/numbers/{number_id}/remove", response_class=HTMLResponse)
def remove_number(request: Request, console: Session, number_id: str) -> Response:
    try:
        console.client.remove_phone_number(number_id)
    except InvalidTransition as exc:
        refused = _page(request, console, refused=str(exc),
                        status_code=refusal_status(request, 409))
        # htmx posted from a row: the page's <main>, with the refusal, replaces the page's.
        refused.headers.update({"HX-Retarget": "main", "HX-Reselect": "main",
                                "HX-Reswap": "outerHTML"})
        return refused
    # The notice names no number: a crafted link could name any.
    return see_result(request, "/console/numbers?removed=1")


def _page(request: Request, console: Session, *, q: str = "", added: str | None = None,
          changed: str | None = None, removed: bool = False,
          refused: str | None = None, form: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, status_code: int | None = None
          ) -> HTMLResponse:
    search = number_search(q)
    numbers = console.client.phone_numbers()
    return page(request, "numbers/list.html", console,
                status_code=status_code or (422 if errors else 200),
                numbers=matching(numbers, search), total=len(numbers), q=q.strip(),
                # Notices name a listed number only: a link cannot make the page say anything.
                added=added if added in {n.number for n in numbers} else None,
                changed={n.number: n for n in numbers}.get(changed or ""),
                removed=removed,
                refused=refused,
                form=form or {"number": "", "provider": "simulated", "cps": ""},
                errors=errors or {})
