"""What the admin pages (campaigns list, audiences, caller IDs, DNC) share: how many
pages a list takes, and where a form's answer sends the person."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from dialer.api.console.render import SECURITY_HEADERS, is_htmx, redirect


def page_count(matching: int, limit: int) -> int:
    """Pages a list of ``matching`` rows takes, ``limit`` a page (at least one)."""
    return max(1, -(-matching // limit))


def see_result(request: Request, url: str) -> Response:
    """After a form: a plain POST is redirected (303); an htmx one is answered 204 with
    ``HX-Redirect``, which htmx follows as a whole page. (A 303 would not do for htmx: its
    request follows the redirect unseen and swaps the next page into the form.)"""
    if not is_htmx(request):
        return redirect(url)
    response = Response(status_code=204)
    response.headers["HX-Redirect"] = url
    response.headers.update(SECURITY_HEADERS)
    return response
