"""Sending the dialer's own tasks through Celery, by name."""

from __future__ import annotations

from celery import Celery

from workers.app import DIAL_QUEUE, RESULTS_QUEUE


class CeleryDispatcher:
    def __init__(self, celery_app: Celery) -> None:
        self._app = celery_app

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        self._app.send_task("dialer.dial", kwargs={"call_id": call_id}, queue=DIAL_QUEUE,
                            countdown=countdown_s if countdown_s > 0.0005 else None)

    def send_result(self, call_id: str, *, outcome: str, duration_s: float,
                    goal_achieved: bool | None, detail: str | None, countdown_s: float) -> None:
        self._app.send_task(
            "dialer.call_result",
            kwargs={"call_id": call_id, "outcome": outcome, "duration_s": duration_s,
                    "goal_achieved": goal_achieved, "detail": detail},
            queue=RESULTS_QUEUE, countdown=countdown_s if countdown_s > 0.0005 else None)
