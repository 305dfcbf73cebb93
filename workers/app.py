"""The Celery app: ``celery -A workers.app worker|beat|flower``.

JSON only, acks late, prefetch 1. Correctness never rests on redelivery:
every task starts with a conditional claim in PostgreSQL.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from dialer.broker_layout import is_redis_url
from dialer.settings import Settings, load_settings
from workers import broker_guard
from workers.broker_topology import own_queue, remove_legacy_bindings
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
    # Items pushed into a Redis queue by hand that are not kombu messages are
    # dropped with a WARNING instead of stopping the worker (workers/broker_guard.py).
    broker_guard.install()
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
        # A plain `celery -A workers.app worker` consumes all of these. Each
        # has its own direct exchange and key (workers/broker_topology.py):
        # without them Celery binds every queue to its default exchange, and
        # a message sent by exchange reaches all four.
        task_queues=[own_queue(CONTROL_QUEUE), own_queue(DIAL_QUEUE),
                     own_queue(RESULTS_QUEUE), own_queue(DEFAULT_QUEUE)],
        task_default_queue=CONTROL_QUEUE,
        task_routes=TASK_ROUTES,
        # Redis only: how soon a message reserved by a worker that died comes
        # back (ARCHITECTURE.md, "Results that must not be lost"), and socket timeouts.
        broker_transport_options=_broker_transport_options(settings),
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
    if settings.signing_enabled:
        _enable_signing(celery_app, settings)
    return celery_app


def _broker_transport_options(settings: Settings) -> dict[str, float]:
    """For a Redis broker: the visibility timeout, a restore scan every
    ``broker_restore_interval_s``, and the socket timeouts of every Redis client.

    kombu scans for expired reservations only every interval x throttle
    (10 s x 10 by default): a throttle of 1 makes the interval the period.
    Its Redis transport also waits forever by default: a broker that accepts
    and never answers would freeze every publish (a tick sending its dials)
    and the worker's own consumer. RabbitMQ needs none of these.
    """
    if not is_redis_url(str(settings.broker_url)):
        return {}
    from dialer.service.runtime import redis_timeouts

    return {"visibility_timeout": settings.broker_visibility_timeout_s,
            "unacked_restore_interval": settings.broker_restore_interval_s,
            "unacked_restore_throttle": 1,
            # A scan holds a Redis lock for a few round trips; a worker killed while
            # holding it would stop every worker's scans until it expires (kombu: five
            # minutes, past a short call's deadline, so a result reserved by the dead
            # worker came back after its call was closed as failed). One interval
            # bounds that; two scans overlapping are harmless, each restore being a
            # transaction on the reservation.
            "unacked_mutex_expire": settings.broker_restore_interval_s,
            **redis_timeouts(settings)}


def _enable_signing(celery_app: Celery, settings: Settings) -> None:
    """Celery's message signing: sign every task sent, run only signed ones.

    A task that is unsigned, or signed by a certificate outside the store, is
    refused by the worker before it is decoded, logged and dropped (never
    retried). JSON stays enabled for what carries no task: worker events
    (Flower) and the remote-control replies. This is process-wide in kombu.
    """
    celery_app.conf.update(
        task_serializer="auth", accept_content=["auth"],
        security_key=settings.security_key, security_certificate=settings.security_cert,
        security_cert_store=settings.security_cert_store)
    celery_app.setup_security(allowed_serializers=["json"], serializer="json")


@worker_ready.connect
def _remove_legacy_bindings(sender: Any, **_: Any) -> None:
    """Once the worker has declared its queues, drop the bindings of older releases."""
    celery_app = sender.app
    if celery_app.main != "dialer":  # another app's worker in a process that imported ours
        return
    try:
        with celery_app.connection_for_write() as connection:
            remove_legacy_bindings(connection, [q.name for q in celery_app.conf.task_queues])
    except Exception:
        # The worker still serves its queues; only senders routing by the
        # exchange dialer.control would still see their messages copied.
        logging.getLogger(__name__).warning(
            "could not remove the old dialer.control bindings; see docs/remote-control.md",
            exc_info=True)


def _beat_schedule(settings: Settings) -> dict:
    from beat_schedule import build_beat_schedule

    return build_beat_schedule(settings)


_settings = load_settings()
app = create_app(_settings)
# Workers and beat: phone numbers masked in every log, JSON lines with DIALER_LOG_JSON=1.
connect_celery_signals(log_json=_settings.log_json)
