"""How many streamed exports read at once, per API process and per organisation.

An export holds one pooled database connection for as long as its client reads
(dialer/service/call_log.py), and the pool is shared by every organisation's requests:
without a bound, a few slow downloads of one organisation would take every connection.
A request over either bound answers 429 with ``Retry-After`` before anything is read;
a slot is given back when the export ends, fails, or its client goes away.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator

from fastapi import Request

from dialer.api.errors import ApiError
from dialer.settings import Settings

RETRY_AFTER_S = 5
BUSY = "too many exports are being read at once; retry shortly"


class ExportSlots:
    def __init__(self, *, total: int, per_org: int) -> None:
        self.total = total
        self.per_org = per_org
        self._lock = threading.Lock()
        self._by_org: dict[str, int] = {}

    def in_use(self, org_id: str | None = None) -> int:
        with self._lock:
            return (sum(self._by_org.values()) if org_id is None
                    else self._by_org.get(org_id, 0))

    def guard(self, org_id: str, chunks: Iterator[str]) -> Iterator[str]:
        """``chunks`` holding a slot of ``org_id`` until it ends; ApiError 429 if none."""
        with self._lock:
            if (sum(self._by_org.values()) >= self.total
                    or self._by_org.get(org_id, 0) >= self.per_org):
                refused = True
            else:
                refused = False
                self._by_org[org_id] = self._by_org.get(org_id, 0) + 1
        if refused:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            raise ApiError(429, [(None, BUSY)], {"Retry-After": str(RETRY_AFTER_S)})
        return _Held(chunks, lambda: self._release(org_id))

    def _release(self, org_id: str) -> None:
        with self._lock:
            left = self._by_org.get(org_id, 0) - 1
            if left > 0:
                self._by_org[org_id] = left
            else:
                self._by_org.pop(org_id, None)


class _Held:
    """An iterator that gives its slot back once: when exhausted, failed, closed, or
    collected (a response that never started iterating still frees it)."""

    def __init__(self, chunks: Iterator[str], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._release = weakref.finalize(self, release)

    def __iter__(self) -> _Held:
        return self

    def __next__(self) -> str:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._release()


def for_settings(settings: Settings) -> ExportSlots:
    return ExportSlots(total=settings.api_max_exports, per_org=settings.api_max_exports_per_org)


def export_slots(request: Request) -> ExportSlots:
    """The process's slots (made by the app's lifespan)."""
    slots: ExportSlots = request.app.state.export_slots
    return slots
