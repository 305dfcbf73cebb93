"""What the worker shows of a task's arguments: ids and counts, never phone numbers.

Flower, ``celery events`` and ``celery inspect`` show the ``argsrepr`` and
``kwargsrepr`` a task message carries, and the sender writes those: another
service's plain ``send_task("dialer.enqueue_campaign", kwargs={"contacts":
[...]})`` puts every number in them. The worker builds a ``Request`` from
each message before it emits ``task-received`` or logs anything, so this
subclass (named by ``DialerTask.Request``) rewrites both reprs there, for
every sender: a list of contacts becomes ``<N contacts>`` and any other E.164
number is masked. The rewritten reprs also replace the message's headers,
which the pool process uses in its success and failure logs.
"""

from __future__ import annotations

from typing import Any

from celery.utils.saferepr import saferepr
from celery.worker.request import Request

from workers.logging_setup import mask_phones

# Celery's own cap on a repr (celery.app.amqp.AMQP.kwargsrepr_maxsize).
REPR_MAX_CHARS = 1024


class _Count:
    def __init__(self, n: int, noun: str) -> None:
        self._text = f"<{n} {noun}>"

    def __repr__(self) -> str:
        return self._text


def _is_contact_list(value: Any) -> bool:
    # Any contact in it is enough: a list mixing contacts with malformed items would
    # otherwise show numbers the E.164 mask does not recognise, like "(415) 555-0123".
    return (isinstance(value, list)
            and any(isinstance(item, dict) and "phone" in item for item in value))


def _summarize(value: Any) -> Any:
    if _is_contact_list(value):
        return _Count(len(value), "contacts")
    if isinstance(value, dict):
        return {key: _summarize(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_summarize(item) for item in value]
    return value


def masked_repr(value: Any) -> str:
    """A repr safe to show anyone: contact lists counted, numbers masked."""
    return mask_phones(saferepr(_summarize(value), REPR_MAX_CHARS))


class MaskedRequest(Request):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._argsrepr = masked_repr(list(self._args or ()))
        self._kwargsrepr = masked_repr(dict(self._kwargs or {}))
        self._request_dict["argsrepr"] = self._argsrepr
        self._request_dict["kwargsrepr"] = self._kwargsrepr

    def info(self, safe: bool = False) -> dict[str, Any]:
        # ``celery inspect active`` asks for the raw arguments (safe=False);
        # they would carry the numbers, so everyone gets the reprs.
        return super().info(safe=True)
