"""Templates and the few helpers every console page shares.

Pages are Jinja2 templates (autoescaped) under ``templates/``; a route gathers views
from the client and hands them to ``page`` (a whole page) or ``fragment`` (what htmx
swaps in). Templates hold no rule: what a number means is decided in ``dialer/`` and
the service layer, a template only lays it out.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dialer.api.console.session import CSRF_FIELD, Console

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# Whatever a page is, it may not be framed, sniffed or run another site's script
# (htmx is configured to need no eval and no inline script or style: base.html).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def when(at: datetime | None, zone: str | None = None) -> str:
    """An instant as a person reads it: in the campaign's zone when given."""
    if at is None:
        return "—"
    if zone:
        from zoneinfo import ZoneInfo

        at = at.astimezone(ZoneInfo(zone))
    return at.strftime("%Y-%m-%d %H:%M")


def pct(part: float, whole: float) -> str:
    return "—" if not whole else f"{100.0 * part / whole:.0f}%"


templates.env.filters["when"] = when
templates.env.globals["pct"] = pct
templates.env.globals["csrf_field"] = CSRF_FIELD


def page(request: Request, template: str, console: Console | None, *,
         status_code: int = 200, **context: Any) -> HTMLResponse:
    """A whole page in the layout: ``console`` None for the sign-in and error pages."""
    response = templates.TemplateResponse(
        request, template, {"console": console, **context}, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def fragment(request: Request, template: str, console: Console | None, *,
             status_code: int = 200, **context: Any) -> HTMLResponse:
    """Part of a page, for htmx to swap in (the same template blocks a page includes)."""
    return page(request, template, console, status_code=status_code, **context)


def redirect(url: str) -> RedirectResponse:
    """After a form: see the result (303, so a reload does not post again)."""
    response = RedirectResponse(url, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def see_result(request: Request, url: str) -> Response:
    """After a form: a plain POST is redirected (303); an htmx one is answered 204 with
    ``HX-Redirect``, which htmx follows as a whole page. (A 303 would not do for htmx:
    its request follows the redirect unseen and swaps the next page into the form.)"""
    if not is_htmx(request):
        return redirect(url)
    response = Response(status_code=204)
    response.headers["HX-Redirect"] = url
    response.headers.update(SECURITY_HEADERS)
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def refusal_status(request: Request, status: int) -> int:
    """The status of a page that shows a refusal (a form's errors): ``status`` for a
    plain form post, 200 for htmx, which swaps only a successful answer in."""
    return 200 if is_htmx(request) else status


def list_query(**params: Any) -> str:
    """A paged list's query string (``?a=b``, or ``""``): empty filters and page 1 left
    out, so the first page of a filter has one address."""
    kept = {k: v for k, v in params.items()
            if v not in (None, "") and not (k == "page" and v == 1)}
    return f"?{urlencode(kept)}" if kept else ""


templates.env.globals["list_query"] = list_query
