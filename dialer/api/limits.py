"""The cap on a request's body, as an ASGI middleware outside every route."""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "request body too large"


class BodySizeLimit:
    """413 for a body over ``max_bytes()``: at once when Content-Length says so, or as
    soon as a chunked body passes it (a route never sees more than the limit)."""

    def __init__(self, app: ASGIApp, max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    # Raised inside the app so the path's error envelope shapes it.
                    scope = dict(scope, dialer_body_too_large=True)
                break
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            if scope.get("dialer_body_too_large"):
                raise HTTPException(413, TOO_LARGE)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted, send)
