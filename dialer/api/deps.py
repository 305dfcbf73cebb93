"""TEMPORARY scaffolding of the atoms branch (the api branch owns this module): the one
dependency the Atoms router needs, ``org_client``. Replace with the api helper's."""

from __future__ import annotations

from fastapi import HTTPException, Request

from dialer.client import DialerClient
from dialer.service.orgs import authenticate


def org_client(request: Request) -> DialerClient:
    """The client of the organisation whose API key the request carries; 401 otherwise."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    runtime = request.app.state.runtime
    org = authenticate(runtime, key.strip()) if scheme.lower() == "bearer" and key else None
    if org is None:
        raise HTTPException(401, "Unauthorized: missing or invalid API key",
                            headers={"WWW-Authenticate": "Bearer"})
    return DialerClient.for_org(runtime, org, source="api")
