"""Do PostgreSQL and Redis answer? Any error is a no: the caller only reports it."""

from __future__ import annotations

from dialer.service.runtime import Runtime
from dialer.store import health as store_health
from dialer.views import HealthView


def health(rt: Runtime) -> HealthView:
    return HealthView(postgres=_postgres(rt), redis=_redis(rt))


def _postgres(rt: Runtime) -> bool:
    try:
        with rt.unit_of_work() as session:
            store_health.ping(session)
        return True
    except Exception:
        return False


def _redis(rt: Runtime) -> bool:
    try:
        return bool(rt.redis.ping())
    except Exception:
        return False
