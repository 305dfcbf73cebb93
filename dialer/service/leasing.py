"""Channel leases and pacing state, and their recovery from PostgreSQL after Redis is wiped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dialer.coordination import RETENTION_S
from dialer.service.runtime import Runtime
from dialer.store import dispatch as store
from dialer.store import leases

log = logging.getLogger(__name__)


def ensure_leases_ready(rt: Runtime, now: datetime) -> bool:
    """Rebuild leases and pacing windows from PostgreSQL if Redis lost them.

    Until the ready marker is back, every acquire answers ``not_ready``, so
    an empty set after a FLUSHDB can never let more calls through than the
    caps allow. Pacing is restored first, because the marker going up is what
    lets dials through again. The rebuild holds the lease gate
    (``store.leases``) exclusively: a dial between its claim and its commit is
    waited for and counted. Returns True when a rebuild happened.
    """
    if rt.leases.is_ready():
        return False
    with rt.unit_of_work() as session:
        leases.lock_gate_exclusive(session)
        if rt.leases.is_ready():  # another sweep rebuilt while this one waited
            return False
        for campaign_id, timezone in store.campaigns_with_pacing(session):
            _rebuild_pacing(rt, session, campaign_id, ZoneInfo(timezone), now)
        in_flight = leases.all_holding_channel(session)
        # Still under the gate: the marker goes up before any waiting dial goes on.
        rt.leases.rebuild(((r.id, r.campaign_id, r.org_id, r.deadline_at.timestamp())
                           for r in in_flight),
                          now_s=now.timestamp())
    if in_flight:
        log.warning("leases rebuilt from PostgreSQL: %d calls in flight", len(in_flight))
    else:
        # A first start (or a wipe while nothing was dialing) lost nothing: no
        # channel could have been counted wrong, so nothing for an operator to act on.
        log.info("lease store initialised from PostgreSQL: no calls in flight")
    return True


def _rebuild_pacing(rt: Runtime, session: Session, campaign_id: str, zone: ZoneInfo,
                    now: datetime) -> None:
    recent = leases.placed_since(session, campaign_id, now - timedelta(seconds=RETENTION_S))
    local_midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    today = leases.count_placed_since(session, campaign_id, local_midnight)
    rt.limiter.rebuild(campaign_id, ((r.id, r.placed_at.timestamp()) for r in recent),
                       day_key=local_midnight.date().isoformat(), today_count=today,
                       now_s=now.timestamp())
