"""The lease gate, and what a lease and pacing rebuild reads after Redis lost them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from dialer.statuses import CALL_HOLDING_CHANNEL

# An advisory lock (the two-key form, apart from single-key locks). Each dial
# holds it shared from its claim to its commit (store.calls.claim takes it),
# the rebuild holds it exclusively while it reads PostgreSQL and writes Redis.
# Without it, a dial that took its lease just before a FLUSHDB and commits just
# after the rebuild's read would hold a channel that the rebuilt semaphore
# does not count.
LEASE_GATE = {"gate_class": 0x6469616C, "gate_key": 1}

_LOCK_GATE = text("SELECT pg_advisory_xact_lock(:gate_class, :gate_key)")

_HOLDING_ALL = text("""
    SELECT k.id, k.campaign_id, c.org_id, k.deadline_at
    FROM calls k JOIN campaigns c ON c.id = k.campaign_id
    WHERE k.status = ANY(:holding)
""")

_PLACED_SINCE = text("""
    SELECT id, placed_at FROM calls WHERE campaign_id = :campaign_id AND placed_at > :since
""")

_COUNT_PLACED_SINCE = text("""
    SELECT count(*) FROM calls WHERE campaign_id = :campaign_id AND placed_at >= :since
""")


def lock_gate_exclusive(session: Session) -> None:
    """Wait for every dial between its claim and its commit; hold off new ones."""
    session.execute(_LOCK_GATE, LEASE_GATE)


def all_holding_channel(session: Session) -> Sequence[Row[Any]]:
    """(id, campaign_id, org_id, deadline_at) of every call holding a channel."""
    return session.execute(_HOLDING_ALL, {"holding": list(CALL_HOLDING_CHANNEL)}).all()


def placed_since(session: Session, campaign_id: str, since: datetime) -> Sequence[Row[Any]]:
    """(id, placed_at) of the campaign's calls placed after ``since``."""
    return session.execute(_PLACED_SINCE, {"campaign_id": campaign_id, "since": since}).all()


def count_placed_since(session: Session, campaign_id: str, since: datetime) -> int:
    return int(session.execute(_COUNT_PLACED_SINCE, {"campaign_id": campaign_id,
                                                     "since": since}).scalar() or 0)
