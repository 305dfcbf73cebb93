"""uvicorn's access log at INFO writes each request line with its query string, and a
query string can hold a phone number (``/atoms/v1/dnc?search=+1212...``, a member
search). No phone number may reach a log at INFO, so the query is left out of it: the
path and the status say what an operator needs from an access log."""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class QueryStringRedacted(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: args = (client, method, path with query, http, status).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) \
                and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter once on uvicorn's access logger (idempotent)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryStringRedacted) for f in logger.filters):
        logger.addFilter(QueryStringRedacted())
