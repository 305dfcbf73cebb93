"""What a worker checks once at start, and the warning for ticks lost to clock skew.

A misconfiguration that would otherwise fail every task, or quietly make
processes disagree, stops the worker at start with one line naming the
setting and exit status 78 (EX_CONFIG, so a supervisor can tell it from a
crash). Connected by ``workers.bootstrap``, which every worker imports.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import redis
from celery.signals import celeryd_after_setup, task_revoked, worker_init

from dialer.broker_layout import is_redis_url, shares_redis_db
from dialer.clock_skew import EveryInterval, tick_transit_s
from dialer.errors import ConfigurationError
from dialer.providers import resolve_provider
from dialer.settings import Settings, load_settings
from workers.time_limits import redelivered_while_running

log = logging.getLogger(__name__)

EX_CONFIG = 78
_skew_warning = EveryInterval(60.0)
# Beat's periodic tasks (their ``expires`` is set by beat's clock), by task name.
_BEAT_ENTRIES = {"dialer.tick": "dialer-tick", "dialer.sweep": "dialer-sweep"}


def configuration_problems(settings: Settings) -> list[str]:
    """Each misconfiguration as the sentence a person needs to fix it."""
    problems: list[str] = []
    if settings.time_scale != 1.0 and not settings.time_origin:
        # Without a shared anchor every process (each prefork child too) starts
        # its own simulated clock at its own start-up, and they disagree.
        problems.append(
            f"DIALER_TIME_SCALE={settings.time_scale:g} needs DIALER_TIME_ORIGIN "
            "(SIM_ISO_DATETIME@REAL_UNIX_SECONDS, the same in every process), or a scale of 1")
    try:
        resolve_provider(settings.provider)
    except ConfigurationError as exc:
        problems.append(str(exc))
    return problems


def configuration_warnings(settings: Settings) -> list[str]:
    """Settings that work but cost something: said once at start, as WARNINGs."""
    warnings: list[str] = []
    if shares_redis_db(str(settings.broker_url), settings.redis_url):
        warnings.append(
            "the Celery broker and the coordination data (DIALER_REDIS_URL) share one Redis "
            "database: a flush of either loses the other's keys, queued results included. "
            "Set DIALER_BROKER_URL to another database or instance (docs/deployment.md, "
            "\"Broker and coordination: two Redis databases\")")
    if is_redis_url(str(settings.broker_url)):
        outliving = redelivered_while_running(
            provider_timeout_s=settings.provider_timeout_s,
            visibility_timeout_s=settings.broker_visibility_timeout_s)
        if outliving:
            warnings.append(
                f"DIALER_BROKER_VISIBILITY_TIMEOUT_S={settings.broker_visibility_timeout_s:g} "
                f"is shorter than the hard time limit of {', '.join(outliving)}: Redis would "
                "deliver them again while they run; raise it or lower "
                "DIALER_PROVIDER_TIMEOUT_S (docs/deployment.md); every task is idempotent, "
                "so the copy only costs work")
    return warnings


def connect_start_checks() -> None:
    # Weak references are the default; these functions live as long as the module.
    worker_init.connect(_refuse_misconfiguration)
    celeryd_after_setup.connect(_warn_of_costly_settings)
    task_revoked.connect(_report_discarded_tick)


def _refuse_misconfiguration(**_: Any) -> None:
    settings = load_settings()
    problems = configuration_problems(settings)
    if problems:
        # One line on stderr and out: Celery catches exceptions raised by signal
        # handlers (and logs a traceback), so this is the way to stop it cleanly.
        sys.stderr.write(f"dialer worker: refusing to start: {'; '.join(problems)}\n")
        sys.stderr.flush()
        os._exit(EX_CONFIG)


def _warn_of_costly_settings(**_: Any) -> None:
    # The worker's main process, once, after logging is set up and before it consumes.
    settings = load_settings()
    for warning in configuration_warnings(settings):
        log.warning("%s", warning)
    _warn_if_redis_may_evict(settings)


def _warn_if_redis_may_evict(settings: Settings) -> None:
    """Eviction takes coordination keys one at a time: leases detect it and rebuild,
    pacing keys (they carry a TTL) cannot. docs/deployment.md asks for noeviction."""
    from dialer.service.runtime import make_redis

    client = make_redis(settings)
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.RedisError as exc:
        # CONFIG refused (an ACL user without @admin, as in docker-compose; managed
        # Redis) or Redis away: say so once, the policy is then the operator's to check.
        log.info("could not read Redis's maxmemory-policy (%s): make sure it is noeviction "
                 "(docs/deployment.md)", type(exc).__name__)
        return
    finally:
        client.close()
    if policy not in (None, "noeviction", b"noeviction"):
        log.warning("Redis maxmemory-policy is %s: it may evict the dialer's pacing keys "
                    "and let calls through faster than the pacing allows; use noeviction "
                    "(docs/deployment.md)", policy)


def _report_discarded_tick(sender: Any = None, request: Any = None, expired: bool = False,
                           **_: Any) -> None:
    entry = _BEAT_ENTRIES.get(getattr(sender, "name", None) or "")
    if not expired or entry is None:
        return
    expires = getattr(request, "expires", None)
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    if not isinstance(expires, datetime) or not _skew_warning.due(time.monotonic()):
        return
    from beat_schedule import build_beat_schedule

    expires_after_s = float(build_beat_schedule(load_settings())[entry]["options"]["expires"])
    now = datetime.now(UTC if expires.tzinfo else None)
    transit_s = tick_transit_s(expires=expires, expires_after_s=expires_after_s, received_at=now)
    log.warning("%s discarded as expired: this worker's clock is ahead of beat's clock by "
                "about %.1f s (less any time it waited in the queue), more than the %.1f s it "
                "may take; ticks and sweeps are lost and nothing dials. Sync the clocks (NTP).",
                sender.name, transit_s, expires_after_s)
