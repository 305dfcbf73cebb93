"""Ask the provider to place a call, and stop waiting at ``DIALER_PROVIDER_TIMEOUT_S``.

``place_call`` runs in a daemon thread of its own, so the timeout holds
whatever the provider does: a socket with no timeout, a C extension that
never checks for signals, an ``except Exception`` that swallows Celery's
``SoftTimeLimitExceeded``. Python cannot stop a thread, so a timed-out one is
abandoned: it may still return (``on_late`` is told the provider's id) or
never. Its call is treated as placed at once — the only safe reading, since
the carrier may have received the request before its answer got lost.

Three answers, and what the dial makes of each:

- ``Placed``: the provider's id is recorded;
- ``Refused`` (``CallRefused``, or this process has too many stuck calls to
  start another): certainly not placed, the call is put back;
- ``Unknown`` (any other exception, or the timeout): perhaps placed; the call
  keeps its channel until its deadline, when the sweep closes it as failed.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dialer.provider import CallRefused, CallRequest, Provider

log = logging.getLogger(__name__)

# Abandoned provider threads still blocked in this process. Each costs a
# thread and a socket; past this many the provider is plainly hung, and the
# process stops starting new ones (the calls are put back, unplaced) until
# some return, so a provider that never answers cannot exhaust the host.
MAX_STUCK_PER_PROCESS = 16

_stuck_lock = threading.Lock()
_stuck = 0


@dataclass(frozen=True)
class Placed:
    provider_call_id: str


@dataclass(frozen=True)
class Refused:
    reason: str
    retry_after_s: float | None  # real seconds; None: at once
    permanent: bool = False  # the provider says waiting will not help (CallRefused)


@dataclass(frozen=True)
class Unknown:
    why: str  # "timeout" | "error"
    detail: str  # the exception's type, never its message (it may hold the number)


Answer = Placed | Refused | Unknown


def stuck_calls() -> int:
    """Provider calls of this process that timed out and have not returned yet."""
    return _stuck


def place_with_timeout(provider: Provider, request: CallRequest, *, timeout_s: float,
                       on_late: Callable[[str], None]) -> Answer:
    if _stuck >= MAX_STUCK_PER_PROCESS:
        return Refused(f"{_stuck} provider calls stuck in this process", retry_after_s=None)
    attempt = _Attempt(provider, request, on_late)
    _runner().submit(attempt.run)
    if attempt.done.wait(timeout_s):
        return attempt.answer()
    if attempt.abandon():
        log.warning("provider did not answer for call %s within %.1f s: treated as placed",
                    request.call_id, timeout_s)
        return Unknown("timeout", f"no answer within {timeout_s:g} s")
    return attempt.answer()  # it finished as we gave up


class _Runner:
    """Daemon threads that run ``place_call``, an idle one reused for the next call.

    Starting a thread per call cost about half a millisecond of every dial
    (the start waits for the new thread to run); handing the call to a thread
    that is already waiting costs a queue put. Daemon threads, not a
    ``ThreadPoolExecutor``, whose threads are joined at exit: a provider that
    never returns must not keep a stopping worker alive. A thread stuck in
    ``place_call`` is simply never idle again (``MAX_STUCK_PER_PROCESS``).
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # waiting threads not yet promised to a queued job

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                threading.Thread(target=self._serve, name="place_call", daemon=True).start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            self._jobs.get()()
            with self._lock:
                self._idle += 1


_runners: dict[int, _Runner] = {}


def _runner() -> _Runner:
    # Per process: threads do not survive the fork of a prefork pool child.
    pid = os.getpid()
    if pid not in _runners:
        _runners.clear()
        _runners[pid] = _Runner()
    return _runners[pid]


class _Attempt:
    """One ``place_call`` in its thread; the lock orders "finished" against "abandoned"."""

    def __init__(self, provider: Provider, request: CallRequest,
                 on_late: Callable[[str], None]) -> None:
        self._provider, self._request, self._on_late = provider, request, on_late
        self._lock = threading.Lock()
        self._abandoned = False
        self.done = threading.Event()
        self._provider_call_id: str | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._provider_call_id = str(self._provider.place_call(self._request))
        except BaseException as exc:  # whatever it is, the waiting dial decides
            self._error = exc
        with self._lock:
            self.done.set()
            late = self._abandoned
        if late:
            self._finish_late()

    def abandon(self) -> bool:
        """Give up waiting; False if the call finished meanwhile."""
        global _stuck
        with self._lock:
            if self.done.is_set():
                return False
            self._abandoned = True
        with _stuck_lock:
            _stuck += 1
        return True

    def answer(self) -> Answer:
        error = self._error
        if error is None:
            return Placed(self._provider_call_id or "")
        if isinstance(error, CallRefused):
            return Refused(error.reason, error.retry_after_s,
                           permanent=bool(getattr(error, "permanent", False)))
        log.warning("provider failed on call %s: %s; unknown whether placed, treated as placed",
                    self._request.call_id, type(error).__name__)
        return Unknown("error", type(error).__name__)

    def _finish_late(self) -> None:
        global _stuck
        with _stuck_lock:
            _stuck -= 1
        if self._error is not None:
            # Too late to put it back: the channel is held until the deadline anyway.
            log.info("provider answered call %s late, with %s", self._request.call_id,
                     type(self._error).__name__)
            return
        log.info("provider answered call %s late", self._request.call_id)
        try:
            self._on_late(self._provider_call_id or "")
        except Exception:  # a late bookkeeping write must not kill the thread noisily
            log.exception("could not record the late provider id of call %s",
                          self._request.call_id)
