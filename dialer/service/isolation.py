"""One campaign's failure stays its own: the tick, the refill and the sweep go on.

A campaign whose step raises (a spec stored before the bounds existed or
edited by hand, a bug only its data reaches) is skipped for this pass,
logged, and marked with a ``dispatch_error`` event; after
``FAILURES_BEFORE_FAILED`` failures in a row it moves to ``failed``. The count
is a column of the campaign (PostgreSQL), so every worker shares it and a
restart does not reset it; a successful dispatch sets it back to 0
(``reset_failures``, inside the dispatch's own transaction).

Errors of the infrastructure (PostgreSQL, Redis, the broker unreachable; a
task's time limit) are nobody's campaign: they propagate and end the pass as
before, so an outage cannot fail every campaign.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pydantic
from billiard.exceptions import SoftTimeLimitExceeded

from dialer.phones import mask_digits
from dialer.service.runtime import Runtime
from dialer.service.steps import campaign_state
from dialer.service.transient import TRANSIENT_ERRORS
from dialer.spec import field_errors
from dialer.store import dispatch as store
from dialer.store.events import record_event
from models.tables import Campaign

log = logging.getLogger(__name__)

# Failures in a row before the campaign is given up (docs/spec.md). Five ticks
# or sweeps: a passing glitch is survived, a broken spec ends within seconds.
FAILURES_BEFORE_FAILED = 5
PAUSE_REASON = "dispatch_error"

_NOT_THE_CAMPAIGN: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, SoftTimeLimitExceeded)
_DETAIL_CHARS = 300


@contextmanager
def isolated(rt: Runtime, campaign_id: str, *, step: str, now: datetime) -> Iterator[None]:
    """Run one campaign's part of a pass; its own error is recorded, not raised."""
    try:
        yield
    except _NOT_THE_CAMPAIGN:
        raise
    except Exception as exc:
        record_failure(rt, campaign_id, step=step, error=exc, now=now)


def describe(error: BaseException) -> str:
    """The error's type and first line, short and with phone-like digits masked; for a
    stored spec that no longer validates, the offending fields."""
    if isinstance(error, pydantic.ValidationError):
        first_line = "stored spec invalid: " + "; ".join(
            f"{field}: {message}" for field, message in field_errors(error))
    else:
        first_line = (str(error).strip().splitlines() or [""])[0]
    message = mask_digits(first_line)
    return f"{type(error).__name__}: {message}"[:_DETAIL_CHARS]


def record_failure(rt: Runtime, campaign_id: str, *, step: str, error: BaseException,
                   now: datetime) -> None:
    reason = describe(error)
    log.warning("campaign %s: dispatch error in the %s, the other campaigns go on: %s",
                campaign_id, step, reason)
    with rt.transaction() as session:
        count = store.count_dispatch_failure(session, campaign_id)
        if count is None:
            return  # finished, failed or deleted meanwhile: nothing left to mark
        record_event(session, campaign_id, at=now, action="dispatch_error",
                     detail=f"{step}: {reason} ({count} of {FAILURES_BEFORE_FAILED} in a row)")
        if count < FAILURES_BEFORE_FAILED:
            return
        failed = campaign_state.fail(
            session, campaign_id, now=now, reason=PAUSE_REASON,
            detail=f"{count} consecutive dispatch errors; last in {step}: {reason}")
    if failed:
        log.warning("campaign %s failed after %d consecutive dispatch errors", campaign_id,
                    count)


def reset_failures(campaign: Campaign) -> None:
    """A dispatch went through: the next failure starts a new count (same transaction)."""
    if campaign.dispatch_failures:
        campaign.dispatch_failures = 0
