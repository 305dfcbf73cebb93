"""Celery beat's schedule: the tick and the sweep.

Each entry expires before the next one is due, so a backlog never piles up
stale ticks; two beats running by mistake only double harmless ticks (the
tick's claims are conditional in PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from dialer.settings import Settings


def build_beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    tick_s = settings.tick_seconds
    sweep_s = settings.sweep_seconds
    return {
        "dialer-tick": {
            "task": "dialer.tick",
            "schedule": tick_s,
            "options": {"expires": tick_s * 0.9, "queue": "dialer.control"},
        },
        "dialer-sweep": {
            "task": "dialer.sweep",
            "schedule": sweep_s,
            "options": {"expires": sweep_s * 0.9, "queue": "dialer.control"},
        },
    }
