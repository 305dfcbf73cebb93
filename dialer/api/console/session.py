"""Who is signed in to the console, and the guard on every form it posts.

Signing in with an API key starts a session (``orgs.start_console_session``): the
browser's cookie holds a random session token, never the key, and the server keeps
only the token's hash. The cookie is HttpOnly (no script reads it), SameSite=Strict (no
other site's page sends it), Path=/console, Secure over HTTPS. The session ends at sign
out, after ``DIALER_CONSOLE_SESSION_HOURS``, or as soon as its key is revoked; it lives
in PostgreSQL, so a restart of the API signs nobody out (the event log reconnects as
the same person).

Forms are also guarded against cross-site requests by a token derived from the session
(HMAC): every form carries it as ``csrf_token``, every htmx request as the
``X-CSRF-Token`` header; a request whose ``Origin`` names another host is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote, urlsplit

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
    session_token: str = field(repr=False)

    def still_signed_in(self) -> bool:
        """For a long-lived stream: the session may end (sign out, key revoked) while it
        runs."""
        org = orgs.console_session_org(self.client.runtime, self.session_token)
        return org is not None and org.id == self.org.id


def csrf_token_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"dialer-console-csrf",
                    hashlib.sha256).hexdigest()


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


def start_session(request: Request, api_key: str) -> str | None:
    """Sign in: the new session's token for the cookie, or None for a refused key."""
    started = orgs.start_console_session(runtime(request), api_key) if api_key else None
    return None if started is None else started[1]


def end_session(request: Request) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        orgs.end_console_session(runtime(request), token)


def console_session(request: Request) -> Iterator[Console]:
    token = request.cookies.get(COOKIE)
    org = orgs.console_session_org(runtime(request), token) if token else None
    if org is None or token is None:
        raise SignInRequired(_here(request))
    client = DialerClient.for_org(runtime(request), org, source=EventSource.MANUAL)
    try:
        yield Console(client=client, org=org, csrf_token=csrf_token_for(token),
                      session_token=token)
    finally:
        client.close()


def _here(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a form posted without
    script, the page it was posted from (what was typed is lost either way)."""
    if request.method in SAFE_METHODS:
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    same_host = referer.netloc == request.headers.get("host", "")
    return referer.path if same_host and referer.path else request.url.path


def refuse_foreign_origin(request: Request) -> None:
    """A browser names the site a form was posted from: it must be this host. The host,
    not the scheme: behind a TLS-terminating proxy the app sees http while the browser
    says https (docs/console.md, "Behind a proxy")."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
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
    # Bytes: compare_digest refuses a str with characters beyond ASCII (a 500, not a 403).
    if token is None or not hmac.compare_digest(token.encode(), console.csrf_token.encode()):
        raise CsrfRefused()
    return console


Session = Annotated[Console, Depends(guarded_session)]
