"""The Celery app: ``celery -A workers.app worker|beat|flower``.

JSON only, acks late, prefetch 1. Correctness never rests on redelivery:
every task starts with a conditional claim in PostgreSQL.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from dialer.settings import Settings, load_settings
from workers.logging_setup import connect_celery_signals
from workers.time_limits import DEFAULT as DEFAULT_LIMITS
from workers.time_limits import celery_annotations

CONTROL_QUEUE = "dialer.control"
DIAL_QUEUE = "dialer.dial"
RESULTS_QUEUE = "dialer.results"
# Where another service's plain ``send_task("dialer.call_result", ...)`` lands
# when it knows nothing of our routes: Celery's default queue name.
DEFAULT_QUEUE = "celery"

TASK_ROUTES = {
    "dialer.tick": {"queue": CONTROL_QUEUE},
    "dialer.sweep": {"queue": CONTROL_QUEUE},
    "dialer.campaign_command": {"queue": CONTROL_QUEUE},
    "dialer.enqueue_campaign": {"queue": CONTROL_QUEUE},
    "dialer.dial": {"queue": DIAL_QUEUE},
    "dialer.call_result": {"queue": RESULTS_QUEUE},
}


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or load_settings()
    # Tasks are imported by the worker at start-up (``include``), after this
    # module has finished loading: they register on the module-level ``app``.
    celery_app = Celery("dialer", broker=settings.broker_url, set_as_current=False,
                        include=["workers.tasks"])
    celery_app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_reject_on_worker_lost=False,
        broker_connection_retry_on_startup=True,
        # A plain `celery -A workers.app worker` consumes all of these.
        task_queues=[Queue(CONTROL_QUEUE), Queue(DIAL_QUEUE), Queue(RESULTS_QUEUE),
                     Queue(DEFAULT_QUEUE)],
        task_default_queue=CONTROL_QUEUE,
        task_routes=TASK_ROUTES,
        # Countdowns here are seconds to minutes; an hour of visibility keeps
        # Redis from redelivering them (and duplicates are harmless anyway).
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=_beat_schedule(settings),
        # Hung providers (issue #11 item 4): no task holds a pool process for
        # ever, whichever queues the worker consumes (workers/time_limits.py).
        task_annotations=celery_annotations(provider_timeout_s=settings.provider_timeout_s),
        task_soft_time_limit=DEFAULT_LIMITS.soft_s,
        task_time_limit=DEFAULT_LIMITS.hard_s,
    )
    return celery_app


def _beat_schedule(settings: Settings) -> dict:
    from beat_schedule import build_beat_schedule

    return build_beat_schedule(settings)


_settings = load_settings()
app = create_app(_settings)
# Workers and beat: phone numbers masked in every log, JSON lines with DIALER_LOG_JSON=1.
connect_celery_signals(log_json=_settings.log_json)
