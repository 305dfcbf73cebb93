"""Celery tasks: thin entry points that parse plain JSON and call the service.

Every task may run twice; each service function starts with a conditional
claim in PostgreSQL, so a duplicate finds nothing to do.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from dialer.errors import ValidationError
from dialer.provider import ResultExtras
from dialer.service import remote
from dialer.service.dial import dial as dial_call
from dialer.service.metrics_export import observe_tick
from dialer.service.results import call_of_other_org, record_result
from dialer.service.sweep import sweep as sweep_once
from dialer.service.tick import tick as tick_once
from dialer.service.transient import TRANSIENT_ERRORS
from dialer.settings import load_settings
from dialer.task_args import RemoteLimits, parse_task_args
from workers.app import app
from workers.bootstrap import runtime
from workers.requests import REFUSED, masked_repr

log = logging.getLogger(__name__)

class DialerTask(Task):
    # PostgreSQL, Redis or the broker briefly away (restart, failover): retry with backoff.
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 1
    retry_backoff_max = 30
    retry_jitter = True
    max_retries = 20
    # Flower and the worker's logs show contact counts and masked numbers, whoever sent it.
    Request = "workers.requests:MaskedRequest"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Every task, ours or sent by anyone on the broker, is checked here, in
        # the pool, before its function runs: a message the main process set
        # aside (workers.requests) or arguments that fail dialer.task_args are
        # recorded in rejected_requests and acknowledged, never retried. A
        # misspelt keyword is a field error here, not a TypeError traceback.
        refusal = getattr(self.request, REFUSED, None)
        if refusal:
            return remote.refuse_message(runtime(), self.name, refusal)
        try:
            parsed = parse_task_args(self.name, args, kwargs,
                                     limits=RemoteLimits.of(runtime().settings))
        except ValidationError as exc:
            return remote.refuse_arguments(runtime(), self.name, self.request.id, exc,
                                           args, kwargs)
        return super().__call__(**parsed.call_kwargs())

    def apply_async(self, args: Any = None, kwargs: Any = None, *rest: Any,
                    **options: Any) -> Any:
        # A retry re-sends through here with reprs Celery rebuilds from the raw
        # arguments, and its task-sent event would show every number in Flower.
        options.setdefault("argsrepr", masked_repr(list(args or ())))
        options.setdefault("kwargsrepr", masked_repr(dict(kwargs or {})))
        return super().apply_async(args, kwargs, *rest, **options)


@app.task(name="dialer.tick", base=DialerTask, max_retries=0)
def tick() -> dict[str, Any]:
    started = time.perf_counter()
    report = tick_once(runtime())
    observe_tick(runtime().redis, time.perf_counter() - started)  # for dialer metrics serve
    return asdict(report)


@app.task(name="dialer.sweep", base=DialerTask, max_retries=0)
def sweep() -> dict[str, Any]:
    return asdict(sweep_once(runtime()))


@app.task(name="dialer.dial", base=DialerTask)
def dial(call_id: str) -> str:
    return dial_call(runtime(), str(call_id))


# A result is retried for as long as PostgreSQL or Redis is away (no budget
# to run out of), backing off to at most ``result_retry_backoff_max_s``; and
# put back on its queue when the pool process running it dies, instead of
# being acknowledged with it (ARCHITECTURE.md, "Results that must not be lost").
# One cut off by its soft time limit rolled back: it is sent again, never dropped;
# one killed at its hard limit is requeued.
@app.task(name="dialer.call_result", base=DialerTask, max_retries=None,
          retry_backoff_max=load_settings().result_retry_backoff_max_s,
          reject_on_worker_lost=True, autoretry_for=(*TRANSIENT_ERRORS, SoftTimeLimitExceeded),
          # Killed at its hard time limit: put back on the queue, not acknowledged
          # with the kill (Celery acknowledges timeouts by default).
          acks_on_timeout=False)
def call_result(call_id: str, outcome: str, duration_s: float = 0.0,
                goal_achieved: bool | None = None, detail: str | None = None,
                org: str | None = None, recording_url: str | None = None,
                transcript_url: str | None = None, cost: Any = None) -> str:
    if org is not None and call_of_other_org(runtime(), str(call_id), org):
        log.warning("result for call %s names another organisation: ignored", call_id)
        return "ignored"
    return record_result(runtime(), str(call_id), outcome=outcome, duration_s=duration_s,
                         goal_achieved=goal_achieved, detail=detail,
                         extras=ResultExtras(recording_url=recording_url,
                                             transcript_url=transcript_url,
                                             cost=None if cost is None else Decimal(str(cost))))


# The task id makes a redelivered command or enqueue a no-op (issue #11, item 6).
@app.task(name="dialer.campaign_command", base=DialerTask, bind=True)
def campaign_command(self: Task, campaign_id: str, command: str, org: str = "default",
                     **args: Any) -> dict[str, Any]:
    return remote.campaign_command(runtime(), campaign_id, command, args,
                                   command_id=self.request.id, org=org)


@app.task(name="dialer.enqueue_campaign", base=DialerTask, bind=True)
def enqueue_campaign(self: Task, spec: dict[str, Any],
                     contacts: list[dict[str, Any]] | None = None,
                     start: bool = False, org: str = "default") -> dict[str, Any]:
    return remote.enqueue_campaign(runtime(), spec, contacts=contacts, start=start,
                                   request_id=self.request.id, org=org)
