"""Who is signed in to the console, and the guard on every form it posts.

The session cookie carries the API key the person signed in with: HttpOnly (no script
reads it), SameSite=Strict (no other site's page sends it), Path=/console, Secure over
HTTPS. So revoking the key ends every console session at once, a restart of the API
signs nobody out (the event log reconnects as the same person), and the server keeps
no session state. The key is checked like a Bearer key on every request
(``orgs.authenticate``: only its hash is stored).

Forms are also guarded against cross-site requests by a token derived from the key
(HMAC): every form carries it as ``csrf_token``, every htmx request as the
``X-CSRF-Token`` header; a request whose ``Origin`` is another site is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from dialer.api.auth import runtime
from dialer.client import DialerClient
from dialer.service import orgs
from dialer.statuses import EventSource
from dialer.views import OrgRef

COOKIE = "dialer_console"
PATH = "/console"
SIGN_IN = f"{PATH}/sign-in"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """No valid session: a page redirects to the sign-in form, htmx and streams get 401."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state-changing request without this session's token, or from another origin."""


@dataclass(frozen=True)
class Console:
    """The signed-in person's organisation and a client acting for it."""

    client: DialerClient
    org: OrgRef
    csrf_token: str
    api_key: str

    def still_signed_in(self) -> bool:
        """For a long-lived stream: the key may be revoked while it runs."""
        org = orgs.authenticate(self.client.runtime, self.api_key)
        return org is not None and org.id == self.org.id


def csrf_token_for(api_key: str) -> str:
    return hmac.new(api_key.encode(), b"dialer-console-csrf", hashlib.sha256).hexdigest()


def sign_in_url(next_path: str | None = None) -> str:
    if not next_path or not next_path.startswith(f"{PATH}/") or next_path.startswith("//"):
        return SIGN_IN
    return f"{SIGN_IN}?next={quote(next_path, safe='/')}"


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: a console path of this site, nothing else."""
    if next_path and next_path.startswith(f"{PATH}/") and not next_path.startswith(
            f"{SIGN_IN}") and "\\" not in next_path and "//" not in next_path:
        return next_path
    return f"{PATH}/campaigns"


def authenticate(request: Request, api_key: str | None) -> OrgRef | None:
    if not api_key:
        return None
    return orgs.authenticate(runtime(request), api_key)


def console_session(request: Request) -> Iterator[Console]:
    api_key = request.cookies.get(COOKIE)
    org = authenticate(request, api_key)
    if org is None or api_key is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    client = DialerClient.for_org(runtime(request), org, source=EventSource.MANUAL)
    try:
        yield Console(client=client, org=org, csrf_token=csrf_token_for(api_key),
                      api_key=api_key)
    finally:
        client.close()


def refuse_foreign_origin(request: Request) -> None:
    """A browser names the page a form was posted from: it must be this site."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfRefused()


async def guarded_session(request: Request,
                          console: Annotated[Console, Depends(console_session)]) -> Console:
    """The session, and for anything but a read the CSRF token checked."""
    if request.method in SAFE_METHODS:
        return console
    refuse_foreign_origin(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if token is None or not hmac.compare_digest(token, console.csrf_token):
        raise CsrfRefused()
    return console


Session = Annotated[Console, Depends(guarded_session)]
