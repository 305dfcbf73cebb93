"""``Authorization: Bearer <api key>`` → the key's organisation → a client acting for it.

Every route but ``/healthz`` and the documentation depends on ``org_client``; the
organisation is never taken from the request otherwise, so an id of another
organisation simply is not found (404, as an unknown one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dialer.api.errors import ApiError
from dialer.client import DialerClient
from dialer.service import orgs
from dialer.service.runtime import Runtime

# auto_error=False: our own 401 body, not FastAPI's 403; the scheme still appears in
# the OpenAPI document so /docs offers "Authorize".
bearer = HTTPBearer(auto_error=False, description="An API key: `dialer apikey create --org NAME`")

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def unauthorized(message: str) -> ApiError:
    return ApiError(401, [("authorization", message)], headers=UNAUTHORIZED_HEADERS)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def current_org(request: Request,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                ) -> orgs.OrgRef:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("missing: send Authorization: Bearer <api key>")
    org = orgs.authenticate(runtime(request), credentials.credentials)
    if org is None:
        raise unauthorized("unknown or revoked API key")
    return org


def org_client(request: Request,
               org: Annotated[orgs.OrgRef, Depends(current_org)]) -> Iterator[DialerClient]:
    # The shared Runtime is not the client's to close: close() leaves it open.
    client = DialerClient.for_org(runtime(request), org, source="api")
    try:
        yield client
    finally:
        client.close()


Client = Annotated[DialerClient, Depends(org_client)]
Org = Annotated[orgs.OrgRef, Depends(current_org)]
