"""Sign in with an API key, sign out, and the console's front door."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialer.api.console.render import SECURITY_HEADERS, page, redirect
from dialer.api.console.session import (
    COOKIE,
    PATH,
    SIGN_IN,
    Session,
    end_session,
    refuse_foreign_origin,
    safe_next,
    start_session,
)
from dialer.settings import Settings

router = APIRouter()


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request,
                 next: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    return page(request, "sign_in.html", None, next=safe_next(next), error=None)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, api_key: Annotated[str, Form(max_length=200)] = "",
            next: Annotated[str, Form(max_length=500)] = "") -> Response:
    # No session yet to derive a token from; another site's page still cannot sign a
    # browser in to an organisation of its choosing.
    refuse_foreign_origin(request)
    token = start_session(request, api_key.strip())
    if token is None:
        return page(request, "sign_in.html", None, status_code=401, next=safe_next(next),
                    error="That API key is unknown or revoked.")
    response = redirect(safe_next(next))
    settings: Settings = request.app.state.settings
    response.set_cookie(COOKIE, token, max_age=int(settings.console_session_hours * 3600),
                        path=PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.post("/sign-out", response_class=RedirectResponse)
def sign_out(request: Request, console: Session) -> RedirectResponse:
    end_session(request)
    response = redirect(SIGN_IN)
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
    response.headers.update(SECURITY_HEADERS)
    return response
