"""Sending the dialer's own tasks through Celery, by name.

The adapter boundary for the broker: kombu's errors (broker unreachable) leave
here as ``InfrastructureError``, which the service layer knows as transient
(``dialer.service.transient``) without importing anything of Celery.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from dialer.errors import InfrastructureError
from dialer.provider import NO_EXTRAS, ResultExtras
from workers.app import DIAL_QUEUE, RESULTS_QUEUE


class CeleryDispatcher:
    def __init__(self, celery_app: Celery) -> None:
        self._app = celery_app

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        self._send("dialer.dial", {"call_id": call_id}, queue=DIAL_QUEUE,
                   countdown_s=countdown_s)

    def send_result(self, call_id: str, *, outcome: str, duration_s: float,
                    goal_achieved: bool | None, detail: str | None, countdown_s: float,
                    extras: ResultExtras = NO_EXTRAS) -> None:
        self._send("dialer.call_result",
                   {"call_id": call_id, "outcome": outcome, "duration_s": duration_s,
                    "goal_achieved": goal_achieved, "detail": detail, **extras.task_kwargs()},
                   queue=RESULTS_QUEUE, countdown_s=countdown_s)

    def _send(self, task: str, kwargs: dict[str, Any], *, queue: str,
              countdown_s: float) -> None:
        try:
            self._app.send_task(task, kwargs=kwargs, queue=queue,
                                countdown=countdown_s if countdown_s > 0.0005 else None)
        except BrokerError as exc:
            raise InfrastructureError(f"broker unreachable: {exc}") from exc
