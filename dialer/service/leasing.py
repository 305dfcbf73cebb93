"""Channel leases and pacing state, and their recovery from PostgreSQL after Redis is wiped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.coordination import RETENTION_S
from dialer.service.runtime import Runtime
from models.tables import Call, Campaign

log = logging.getLogger(__name__)

# An advisory lock (the two-key form, apart from single-key locks) between a
# rebuild and the dials: each dial holds it shared from its claim to its
# commit, the rebuild holds it exclusively while it reads PostgreSQL and
# writes Redis. Without it, a dial that took its lease just before a FLUSHDB
# and commits just after the rebuild's read would hold a channel that the
# rebuilt semaphore does not count.
LEASE_GATE = {"gate_class": 0x6469616C, "gate_key": 1}


def ensure_leases_ready(rt: Runtime, now: datetime) -> bool:
    """Rebuild leases and pacing windows from PostgreSQL if Redis lost them.

    Until the ready marker is back, every acquire answers ``not_ready``, so
    an empty set after a FLUSHDB can never let more calls through than the
    caps allow. Pacing is restored first, because the marker going up is what
    lets dials through again. Returns True when a rebuild happened.
    """
    if rt.leases.is_ready():
        return False
    with rt.sessions() as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:gate_class, :gate_key)"), LEASE_GATE)
        if rt.leases.is_ready():  # another sweep rebuilt while this one waited
            return False
        for campaign_id, timezone in session.execute(select(Campaign.id, Campaign.timezone).where(
                Campaign.status.in_((st.CampaignStatus.RUNNING, st.CampaignStatus.PAUSED)))).all():
            _rebuild_pacing(rt, session, campaign_id, ZoneInfo(timezone), now)
        in_flight = session.execute(select(Call.id, Call.campaign_id, Call.deadline_at).where(
            Call.status.in_(st.CALL_HOLDING_CHANNEL))).all()
        # Still under the gate: the marker goes up before any waiting dial goes on.
        rt.leases.rebuild(((r.id, r.campaign_id, r.deadline_at.timestamp()) for r in in_flight),
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
    recent = session.execute(select(Call.id, Call.placed_at).where(
        Call.campaign_id == campaign_id,
        Call.placed_at > now - timedelta(seconds=RETENTION_S))).all()
    local_midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    today = session.scalar(select(func.count()).where(
        Call.campaign_id == campaign_id, Call.placed_at >= local_midnight)) or 0
    rt.limiter.rebuild(campaign_id, ((r.id, r.placed_at.timestamp()) for r in recent),
                       day_key=local_midnight.date().isoformat(), today_count=today,
                       now_s=now.timestamp())
