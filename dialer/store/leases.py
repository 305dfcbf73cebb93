"""The lease gate: an advisory lock between a lease rebuild and the dials."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# The two-key form, apart from single-key locks. Each dial holds it shared from
# its claim to its commit (store.calls.claim takes it), the rebuild holds it
# exclusively while it reads PostgreSQL and writes Redis. Without it, a dial
# that took its lease just before a FLUSHDB and commits just after the
# rebuild's read would hold a channel that the rebuilt semaphore does not count.
LEASE_GATE = {"gate_class": 0x6469616C, "gate_key": 1}

_LOCK_GATE = text("SELECT pg_advisory_xact_lock(:gate_class, :gate_key)")


def lock_gate_exclusive(session: Session) -> None:
    """Wait for every dial between its claim and its commit; hold off new ones."""
    session.execute(_LOCK_GATE, LEASE_GATE)
