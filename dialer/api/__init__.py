"""The HTTP API (docs/api.md): ``uvicorn dialer.api:app`` or ``dialer api serve``."""

from __future__ import annotations

from dialer.api.app import create_app

app = create_app()

__all__ = ["app", "create_app"]
