"""The worker's first look at a message: masked reprs, and malformed messages set aside.

Flower, ``celery events`` and ``celery inspect`` show the ``argsrepr`` and
``kwargsrepr`` a task message carries, and the sender writes those: another
service's plain ``send_task("dialer.enqueue_campaign", kwargs={"contacts":
[...]})`` puts every number in them. The worker builds a ``Request`` from
each message before it emits ``task-received`` or logs anything, so this
subclass (named by ``DialerTask.Request``) rewrites both reprs there, for
every sender: a list of contacts becomes ``<N contacts>`` and any other E.164
number is masked. The rewritten reprs also replace the message's headers,
which the pool process uses in its success and failure logs.

All of this runs in the worker's *main* process, where Celery treats any
exception as unrecoverable: the worker exits, the broker hands the message to
the next worker, and it dies too. So nothing here may raise on any input.
Found by experiment (docs/remote-control.md, "Malformed messages"): Celery
5.x itself unpacks the body ``[args, kwargs, embed]`` here (a body of any
other shape killed the worker) and pickles the arguments to the pool (a list
nested ~600 deep killed it too), while ``args`` that is not a list or
``kwargs`` that is not an object only failed later, in the pool's trace, as a
FAILURE nobody recorded. A message that fails ``envelope_errors`` therefore
reaches the pool with empty arguments and its field errors in the request
(``REFUSED``); ``DialerTask`` records it in ``rejected_requests`` and returns,
so it is acknowledged once and never redelivered.
"""

from __future__ import annotations

import hashlib
from functools import cache
from itertools import islice
from typing import Any

from celery.utils.saferepr import saferepr
from celery.worker.request import Request

from dialer.settings import load_settings
from dialer.task_args import MAX_TASK_ID_CHARS, RemoteLimits, envelope_errors, unpack_body
from workers.logging_setup import mask_phones

# Celery's own cap on a repr (celery.app.amqp.AMQP.kwargsrepr_maxsize).
REPR_MAX_CHARS = 1024
# The repr is cut at REPR_MAX_CHARS anyway: looking deeper or wider than this
# only costs time in the main process (and, unbounded, its stack).
SUMMARY_MAX_DEPTH = 6
SUMMARY_MAX_ITEMS = 50
# The request header that carries a refusal from the main process to the pool.
REFUSED = "dialer_refused"


class _Shown:
    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def _is_contact_list(value: Any) -> bool:
    # Any contact in it is enough: a list mixing contacts with malformed items would
    # otherwise show numbers the E.164 mask does not recognise, like "(415) 555-0123".
    return (isinstance(value, list)
            and any(isinstance(item, dict) and "phone" in item for item in value))


def _summarize(value: Any, depth: int = 0) -> Any:
    # Recursion bounded by SUMMARY_MAX_DEPTH, however deep the value.
    if _is_contact_list(value):
        return _Shown(f"<{len(value)} contacts>")
    if not isinstance(value, dict | list | tuple):
        return value
    if depth >= SUMMARY_MAX_DEPTH:
        return _Shown("...")
    if isinstance(value, dict):
        shown: Any = {key: _summarize(item, depth + 1)
                      for key, item in islice(value.items(), SUMMARY_MAX_ITEMS)}
        if len(value) > SUMMARY_MAX_ITEMS:
            shown[_Shown("...")] = _Shown(f"<{len(value) - SUMMARY_MAX_ITEMS} more>")
        return shown
    shown = [_summarize(item, depth + 1) for item in islice(value, SUMMARY_MAX_ITEMS)]
    if len(value) > SUMMARY_MAX_ITEMS:
        shown.append(_Shown(f"<{len(value) - SUMMARY_MAX_ITEMS} more>"))
    return shown


def masked_repr(value: Any) -> str:
    """A repr safe to show anyone: contact lists counted, numbers masked. Never raises."""
    try:
        return mask_phones(saferepr(_summarize(value), REPR_MAX_CHARS,
                                    maxlevels=SUMMARY_MAX_DEPTH + 1))
    except Exception:  # e.g. an int too long to print: never raise in the main process
        return f"<unprintable {type(value).__name__}>"


def bounded_id(task_id: Any) -> str:
    """The task id to log and record: itself when sane, else a short, stable stand-in."""
    if isinstance(task_id, str) and 0 < len(task_id) <= MAX_TASK_ID_CHARS:
        return task_id
    text = task_id if isinstance(task_id, str) else masked_repr(task_id)
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
    head = text[:64] if isinstance(task_id, str) else f"invalid-{type(task_id).__name__}"
    return f"{head}...sha256:{digest}"


@cache
def _limits() -> RemoteLimits:
    # Read once per process: the main process screens every message with them.
    return RemoteLimits.of(load_settings())


def _header_errors(headers: dict[str, Any]) -> list[tuple[str, str]]:
    # Headers the main process itself uses: a wrong type there raises in Celery's code.
    errors: list[tuple[str, str]] = []
    timelimit = headers.get("timelimit")
    if timelimit is not None and not (
            isinstance(timelimit, list | tuple) and len(timelimit) == 2
            and all(t is None or (isinstance(t, int | float) and not isinstance(t, bool)
                                  and 0 <= t < 10**9) for t in timelimit)):
        errors.append(("timelimit", "must be [hard, soft] seconds, each a number or null"))
    shadow = headers.get("shadow")
    if shadow is not None and not (isinstance(shadow, str) and len(shadow) <= 200):
        errors.append(("shadow", "must be a task name"))
    return errors


def screen(message: Any, headers: dict[str, Any], body: Any, decoded: bool
           ) -> dict[str, Any] | None:
    """The refusal of a malformed message (errors, bounded id, masked reprs), or None."""
    limits = _limits()
    size = len(body) if isinstance(body, bytes | str) else 0
    task_id = headers.get("id")
    args: Any = []
    kwargs: Any = {}
    if size > limits.max_message_bytes:
        # Not even decoded: too big to look at.
        errors = envelope_errors(task_id, [], {}, body_bytes=size, limits=limits)
    else:
        # A body that does not decode raises kombu's DecodeError: Celery's own
        # handling logs it and acknowledges the message (never redelivered).
        payload = body if decoded else message.payload
        unpacked = unpack_body(payload)
        if unpacked is None:
            args = payload
            errors = [("message", "the body must be [args, kwargs, embed] (Celery protocol 2)")]
            errors += envelope_errors(task_id, [], {}, body_bytes=size, limits=limits)
        else:
            args, kwargs, _ = unpacked
            errors = envelope_errors(task_id, args, kwargs, body_bytes=size, limits=limits,
                                     task=headers.get("task"))
    errors += _header_errors(headers)
    if not errors:
        return None
    return {"errors": [[field, message] for field, message in errors],
            "request_id": bounded_id(task_id), "bytes": size,
            "argsrepr": masked_repr(args), "kwargsrepr": masked_repr(kwargs)}


class MaskedRequest(Request):
    def __init__(self, message: Any, *, headers: dict[str, Any] | None = None,
                 body: Any = None, decoded: bool = False, **options: Any) -> None:
        headers = dict(message.headers if headers is None else headers)
        refusal = screen(message, headers, message.body if body is None else body, decoded)
        headers[REFUSED] = refusal  # always ours: a sender cannot set or forge it
        if refusal is None:
            super().__init__(message, headers=headers, body=body, decoded=decoded, **options)
            self._argsrepr = masked_repr(self._args)
            self._kwargsrepr = masked_repr(self._kwargs)
        else:
            # Empty arguments reach the pool, which records the refusal; nothing
            # that made the message malformed is unpacked, pickled or scheduled.
            request_id = refusal["request_id"]
            headers.update({"id": request_id, "root_id": request_id, "parent_id": None,
                            "eta": None, "expires": None, "timelimit": None, "shadow": None})
            super().__init__(message, headers=headers, body=([], {}, {}), decoded=True,
                             **options)
            self._argsrepr = refusal["argsrepr"]
            self._kwargsrepr = refusal["kwargsrepr"]
        self._request_dict["argsrepr"] = self._argsrepr
        self._request_dict["kwargsrepr"] = self._kwargsrepr

    def info(self, safe: bool = False) -> dict[str, Any]:
        # ``celery inspect active`` asks for the raw arguments (safe=False);
        # they would carry the numbers, so everyone gets the reprs.
        return super().info(safe=True)
