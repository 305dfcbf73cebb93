"""Baseline for bench/worker_throughput.py: a bare Celery app with the dialer's
worker settings and one no-op task.

The settings that cost per task are copied from the dialer's own app rather
than restated, so the baseline cannot drift from it: JSON, acks late,
prefetch 1, task events on (Flower needs them), sent events too.
"""

from __future__ import annotations

import os

import redis
from celery import Celery

from dialer.settings import load_settings
from workers.app import create_app

BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/10")
SAME_AS_DIALER = ("task_serializer", "result_serializer", "accept_content", "task_ignore_result",
                  "task_acks_late", "worker_prefetch_multiplier", "task_reject_on_worker_lost",
                  "broker_transport_options", "worker_send_task_events", "task_send_sent_event")

_dialer_conf = create_app(load_settings(redis_url=BROKER)).conf
app = Celery("bench_noop", broker=BROKER, set_as_current=False)
app.conf.update({key: _dialer_conf[key] for key in SAME_AS_DIALER})
_counter = redis.Redis.from_url(BROKER)


@app.task(name="bench.noop")
def noop() -> None:
    _counter.incr("bench:noop:done")
