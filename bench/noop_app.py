"""Baseline for bench/worker_throughput.py: a bare Celery app with the dialer's
worker settings (JSON, acks late, prefetch 1) and one no-op task."""

from __future__ import annotations

import os

import redis
from celery import Celery

BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/10")
app = Celery("bench_noop", broker=BROKER, set_as_current=False)
app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True,
                task_acks_late=True, worker_prefetch_multiplier=1)
_counter = redis.Redis.from_url(BROKER)


@app.task(name="bench.noop")
def noop() -> None:
    _counter.incr("bench:noop:done")
