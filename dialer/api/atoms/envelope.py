"""Errors under /atoms/v1 as Atoms answers them: ``{"status": false, "errors": [...]}``.

A route class rather than app-wide exception handlers: the native /v1 surface
keeps its own error shape for the same exceptions, and whatever an Atoms
route raises (its body's validation, the auth dependency's 401, our errors)
is answered here before the app's handlers see it.

Status codes follow the Atoms OpenAPI document: bad input 400 (Atoms has no
422), unknown or foreign ids 404, a forbidden lifecycle change 400 (Atoms lists
only 400 for start and pause; the official SDK also retries a 409 as if it
were transient), an oversized CSV or audience 413.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialer.api.atoms.mapping import atoms_path
from dialer.api.errors import RETRY_AFTER_S, UNAVAILABLE
from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.service.transient import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

# Where a request-validation error was found: not part of the field's name.
_LOCATIONS = {"body", "query", "path", "header", "form"}


class PayloadTooLarge(Exception):
    """A CSV over DIALER_API_MAX_CSV_BYTES, or an audience over
    DIALER_API_MAX_AUDIENCE_MEMBERS."""


def failure(status_code: int, errors: list[str],
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": False, "errors": errors}, status_code=status_code,
                        headers=headers)


def _field(name: str, message: str) -> str:
    return f"{name}: {message}" if name else message


def request_errors(exc: RequestValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        out.append(_field(path, str(err.get("msg", "invalid")).removeprefix("Value error, ")))
    return out


def as_atoms_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, RequestValidationError):
        return failure(400, request_errors(exc))
    if isinstance(exc, ValidationError):
        return failure(400, [_field(atoms_path(f) if f else "", m) for f, m in exc.errors])
    if isinstance(exc, NotFound):
        return failure(404, [str(exc) or "Resource not found"])
    if isinstance(exc, InvalidTransition):
        return failure(400, [str(exc)])
    if isinstance(exc, PayloadTooLarge):
        return failure(413, [str(exc)])
    if isinstance(exc, HTTPException | StarletteHTTPException):
        return failure(exc.status_code, [str(exc.detail)], headers=exc.headers)
    carried = _carried(exc)
    if carried is not None:
        return failure(*carried)
    if isinstance(exc, TRANSIENT_ERRORS):
        log.warning("%s on the Atoms surface (answered 503)", type(exc).__name__)
        return failure(503, [UNAVAILABLE], headers={"Retry-After": str(RETRY_AFTER_S)})
    # The class and the frames only: a driver error's message can quote the row it failed
    # on, phone number and all. Nothing of it goes to the client.
    log.error("unexpected %s on the Atoms surface\n%s", type(exc).__name__,
              "".join(traceback.format_tb(exc.__traceback__)))
    return failure(500, ["Internal server error"])


def _carried(exc: Exception) -> tuple[int, list[str], Mapping[str, str] | None] | None:
    """An error that carries its own status and ``(field, message)`` pairs, such as the
    API's ``ApiError`` (its 401 from the auth dependency)."""
    status, errors = getattr(exc, "status", None), getattr(exc, "errors", None)
    if not isinstance(status, int) or not isinstance(errors, list) or not 400 <= status < 600:
        return None
    return status, as_messages(errors), getattr(exc, "headers", None)


def as_messages(errors: list[Any]) -> list[str]:
    """``(field, message)`` pairs as Atoms' strings, fields by their Atoms names."""
    out = []
    for item in errors:
        field, message = item if isinstance(item, tuple | list) and len(item) == 2 else ("", item)
        out.append(_field(atoms_path(field) if field else "", str(message)))
    return out or ["error"]


def atoms_envelope(request: Request, status: int, errors: list[tuple[str | None, str]]
                   ) -> JSONResponse:
    """For the app's own error handlers (an oversized body refused before any route):
    what they answer under /atoms/v1, in Atoms' envelope."""
    return failure(status, as_messages(errors))


class AtomsRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def atoms_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # every error leaves in the Atoms envelope
                return as_atoms_response(exc)

        return atoms_handler
