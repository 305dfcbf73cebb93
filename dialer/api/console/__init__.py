"""The web console (docs/console.md): server-rendered pages at ``/console`` on the same
service layer as ``/v1``, signed in with an API key.

One module per area, each a router of thin routes: ``signin`` (the session),
``campaigns`` (the list), ``campaign_form`` (create and edit), ``campaign_console`` (one
campaign live), ``analytics``, ``leads`` (participants and the call log),
``audiences`` (CSV upload), ``numbers`` (caller IDs) and ``dnc``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dialer.api import errors
from dialer.api.console import (
    analytics,
    audiences,
    campaign_console,
    campaign_form,
    campaigns,
    dnc,
    leads,
    live_stream,
    numbers,
    signin,
)
from dialer.api.console.render import HERE, SECURITY_HEADERS, page, redirect, templates
from dialer.api.console.session import PATH, CsrfRefused, SignInRequired, sign_in_url

router = APIRouter(prefix=PATH, include_in_schema=False)
for area in (signin, campaigns, campaign_form, campaign_console, analytics, leads,
             audiences, numbers, dnc):
    router.include_router(area.router)


@router.get("", response_class=RedirectResponse)
@router.get("/", response_class=RedirectResponse)
def front_door() -> RedirectResponse:
    return redirect(f"{PATH}/campaigns")


def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if "text/event-stream" in request.headers.get("accept", ""):
        # The live log reconnecting after its session ended: one last event saying so,
        # which stops the page's retries (an error status would have it retry forever).
        closed = live_stream.closed_event(
            lambda template, context: templates.get_template(template).render(context),
            "unauthorized")
        return Response(f"event: closed\ndata: {closed.data}\n\n", media_type="text/event-stream",
                        headers=SECURITY_HEADERS)
    if request.headers.get("hx-request") != "true":
        # A page, or a form posted without script: to the sign-in form, then back.
        return redirect(sign_in_url(exc.next_path))
    # htmx follows HX-Redirect.
    response = Response("sign in first", status_code=401, media_type="text/plain")
    response.headers["HX-Redirect"] = sign_in_url()
    response.headers.update(SECURITY_HEADERS)
    return response


def _csrf_refused(request: Request, exc: Exception) -> Response:
    return page(request, "error.html", None, status_code=403, title="Refused",
                messages=["This form did not come from this console's page. "
                          "Reload the page and try again."])


def _error_page(request: Request, status: int, items: list[errors.FieldError]) -> Response:
    titles = {404: "Not found", 409: "Not now", 422: "Not valid", 503: "Briefly unavailable"}
    messages = [f"{field}: {message}" if field else message for field, message in items]
    return page(request, "error.html", None, status_code=status,
                title=titles.get(status, "Something went wrong"), messages=messages)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(f"{PATH}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    errors.register_envelope(f"{PATH}", _error_page)
