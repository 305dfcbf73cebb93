"""The do-not-call list (issue 15): paged and searched by the number's digits, numbers
added one a line (the invalid ones named, nothing added until all are valid), one removed
after confirmation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from dialer.api.console.charts import page_count
from dialer.api.console.numbers import number_search
from dialer.api.console.render import page, see_result
from dialer.api.console.session import Session
from dialer.errors import ValidationError
from dialer.export_format import E164

router = APIRouter()

PAGE_SIZE = 50
MAX_LINES = 10_000
MAX_NAMED = 20


def numbers_typed(text: str) -> list[str]:
    """The numbers of a textarea: one a line (commas too), blanks left out."""
    return [n.strip() for line in text.splitlines() for n in line.split(",") if n.strip()]


def invalid_numbers(typed: list[str], error: ValidationError) -> str:
    """The message naming the numbers the validation refused (``numbers[i]`` paths)."""
    named = []
    for field, message in error.errors:
        index = field.removeprefix("numbers[").removesuffix("]")
        named.append(f"“{typed[int(index)]}” ({message})" if index.isdigit()
                     and int(index) < len(typed) else message)
    more = f" and {len(named) - MAX_NAMED} more" if len(named) > MAX_NAMED else ""
    return "Not valid: " + "; ".join(named[:MAX_NAMED]) + more + ". Nothing was added."


@router.get("/dnc", response_class=HTMLResponse)
def dnc_list(request: Request, console: Session,
             q: Annotated[str, Query(max_length=50)] = "",
             page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
             added: Annotated[int | None, Query(ge=0, le=MAX_LINES)] = None,
             of: Annotated[int | None, Query(ge=0, le=MAX_LINES)] = None,
             removed: Annotated[str | None, Query(max_length=30)] = None,
             count: Annotated[int, Query(ge=0, le=1)] = 0) -> HTMLResponse:
    # A removal notice names a number as the list holds them (E.164) and nothing else a
    # crafted link could put there.
    if removed is not None and not E164.fullmatch(removed):
        removed = None
    return _page(request, console, q=q, page_number=page_number, added=added, of=of,
                 removed=removed, removed_count=count)


@router.post("/dnc", response_class=HTMLResponse)
def add(request: Request, console: Session,
        numbers: Annotated[str, Form(max_length=400_000)] = "") -> Response:
    typed = numbers_typed(numbers)
    if not typed:
        return _page(request, console, text=numbers, error="Type at least one number.")
    if len(typed) > MAX_LINES:
        return _page(request, console, text=numbers,
                     error=f"At most {MAX_LINES} numbers at once.")
    try:
        added = console.client.add_dnc(typed)
    except ValidationError as exc:
        return _page(request, console, text=numbers, error=invalid_numbers(typed, exc))
    return see_result(request, "/console/dnc?" + urlencode({"added": added, "of": len(set(typed))}))


@router.post("/dnc/remove", response_class=HTMLResponse)
def remove(request: Request, console: Session,
           phone: Annotated[str, Form(max_length=30)] = "") -> Response:
    count = console.client.remove_dnc([phone])
    return see_result(request, "/console/dnc?" + urlencode({"removed": phone, "count": count}))


def _page(request: Request, console: Session, *, q: str = "", page_number: int = 1,
          added: int | None = None, of: int | None = None, removed: str | None = None,
          removed_count: int = 0, text: str = "", error: str | None = None) -> HTMLResponse:
    search = number_search(q)
    entries = console.client.dnc_entries(page=page_number, limit=PAGE_SIZE,
                                         search=search or None)
    return page(request, "dnc/list.html", console, status_code=422 if error else 200,
                entries=entries, q=q.strip(), page_number=page_number,
                pages=page_count(entries.total, PAGE_SIZE), query={"q": q.strip()},
                added=added, of=of, removed=removed, removed_count=removed_count, text=text,
                error=error)
