"""One error vocabulary for the HTTP API (docs/api.md, "Errors").

Every error answer is ``{"errors": [{"field": "dotted.path" | null, "message": "..."}]}``:
``dialer.errors.ValidationError`` and FastAPI's own request validation → 422 naming
every offending field (malformed JSON → 400), ``NotFound`` → 404 (a foreign id answers
exactly as an unknown one), ``InvalidTransition`` → 409, an oversized body → 413, a
missing or wrong key → 401, PostgreSQL or Redis briefly away → 503 with ``Retry-After``
(the same request works once it is back), anything else → 500 with no detail (logged,
without the request's body, so no phone number reaches a log line).

Another surface mounted on the same app (the Atoms-compatible ``/atoms/v1``) wants its
own envelope: it registers a formatter for its path prefix with ``register_envelope``,
and every handler here hands its (status, errors) to that formatter instead.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.service.transient import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

FieldError = tuple[str | None, str]
# (request, status, errors) -> the response for a surface with its own envelope.
Envelope = Callable[[Request, int, list[FieldError]], Response]
_ENVELOPES: dict[str, Envelope] = {}

INTERNAL_ERROR = "internal error"
UNAVAILABLE = "a service the dialer needs is briefly unavailable; retry"
RETRY_AFTER_S = 2


class ErrorItem(BaseModel):
    field: str | None = Field(description="The offending field as a dotted path "
                              "(`retry.max_retries`, `contacts[2].phone`); null when no "
                              "one field is at fault.")
    message: str


class ErrorBody(BaseModel):
    errors: list[ErrorItem]


def register_envelope(path_prefix: str, envelope: Envelope) -> None:
    """Errors under ``path_prefix`` (e.g. ``/atoms/``) are shaped by ``envelope``."""
    _ENVELOPES[path_prefix] = envelope


class ApiError(Exception):
    """An error a route raises with its status and fields (401, 413 ...)."""

    def __init__(self, status: int, errors: Sequence[FieldError],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(message for _, message in errors))
        self.status = status
        self.errors = list(errors)
        self.headers = headers


def error_response(request: Request, status: int, errors: Sequence[FieldError],
                   headers: dict[str, str] | None = None) -> Response:
    path = request.url.path
    for prefix, envelope in _ENVELOPES.items():
        if path.startswith(prefix):
            response = envelope(request, status, list(errors))
            break
    else:
        response = JSONResponse(
            {"errors": [{"field": field, "message": message} for field, message in errors]},
            status_code=status)
    if headers:
        response.headers.update(headers)
    return response


def field_path(loc: Sequence[Any]) -> str | None:
    """``("body", "contacts", 2, "phone")`` → ``contacts[2].phone`` (as the spec's errors
    name them); the location kind (body, query, path, header) is dropped."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or None


def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(request, 400, [("body", "malformed JSON")])
    items: list[FieldError] = []
    for e in errors:
        # A fault of the body as a whole (not an object, missing) is the body's.
        field = field_path(e.get("loc", ())) or "body"
        items.append((field, str(e.get("msg", "invalid")).removeprefix("Value error, ")))
    return error_response(request, 422, items)


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    return error_response(request, 422, [(field or None, message)
                                         for field, message in exc.errors]
                          or [(None, str(exc))])


def _not_found(request: Request, exc: Exception) -> Response:
    # The same words for an unknown id and another organisation's: no hint either way.
    return error_response(request, 404, [(None, "not found")])


def _invalid_transition(request: Request, exc: Exception) -> Response:
    # The field that forbids it: the status, or one the move needs (agent_id to start).
    field = exc.field if isinstance(exc, InvalidTransition) else "status"
    return error_response(request, 409, [(field, str(exc) or "forbidden transition")])


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.errors, exc.headers)


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    field = "body" if exc.status_code == 413 else None
    return error_response(request, exc.status_code, [(field, str(exc.detail))],
                          dict(exc.headers) if exc.headers else None)


def _unavailable(request: Request, exc: Exception) -> Response:
    # The class only: a driver's message can carry a host, a user or a row.
    log.warning("%s %s: %s (answered 503)", request.method, request.url.path,
                type(exc).__name__)
    return error_response(request, 503, [(None, UNAVAILABLE)],
                          {"Retry-After": str(RETRY_AFTER_S)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ValidationError, _validation)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InvalidTransition, _invalid_transition)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    for transient in TRANSIENT_ERRORS:
        app.add_exception_handler(transient, _unavailable)


class LastResort:
    """Whatever escaped every handler: a 500 with no detail, logged without the
    exception's message (a driver error can quote the row it failed on, phone and all)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            log_internal(scope.get("method", "?"), scope.get("path", "?"), exc)
            if started:
                return
            response = error_response(Request(scope), 500, [(None, INTERNAL_ERROR)])
            await response(scope, receive, send)


def log_internal(method: str, path: str, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    # The method, path, exception class and frames only: the body and the exception's
    # message may hold a phone number. Nothing of it goes to the client.
    log.error("unhandled %s on %s %s\n%s", type(exc).__name__, method, path, frames)


# What every authenticated route may answer besides its success (OpenAPI `responses`).
def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {400: "Malformed JSON", 401: "Missing or unknown API key",
                 404: "Unknown id, or another organisation's",
                 409: "The campaign's status forbids this change",
                 413: "Body (or CSV file, or audience) too large",
                 422: "Invalid input: every offending field listed",
                 429: "Too many exports being read at once (see `Retry-After`)"}
    return {status: {"model": ErrorBody, "description": described[status]}
            for status in statuses}
