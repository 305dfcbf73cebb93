"""Call rows of known shape for the analytics tests: written beside a real campaign as
the engine leaves them (participants' statuses, executions, calls), so that every figure
can be recomputed in Python from the same rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from dialer.client import DialerClient
from tests.support.scenario import campaign_spec, ny_contacts

MONDAY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CALLER_A, CALLER_B = "+14155550100", "+14155550101"


@dataclass
class Row:
    participant: int
    attempt: int
    outcome: str | None
    placed_at: datetime | None
    from_number: str | None = CALLER_A
    goal: bool | None = None
    execution: int = 1
    cycle: int = 0


def make_campaign(client: DialerClient, contacts: int, **spec: Any
                  ) -> tuple[str, list[int]]:
    """A draft campaign of ``contacts`` New York contacts, and its participants' ids."""
    audience = client.create_audience("analytics", ny_contacts([["answered"]] * contacts))
    campaign = client.create_campaign(campaign_spec(audience.id, **spec))
    with client.runtime.engine.connect() as conn:
        ids = [pid for (pid,) in conn.execute(sa.text(
            "SELECT id FROM participants WHERE campaign_id = :c ORDER BY id"),
            {"c": campaign.id})]
    return campaign.id, ids


def write_rows(client: DialerClient, campaign_id: str, rows: list[Row], *,
               statuses: dict[int, str] | None = None,
               executions: list[tuple[int, str, datetime, datetime | None, int]] = (),
               ) -> None:
    """Call rows (and participant statuses, executions) as the engine leaves them."""
    with client.runtime.engine.begin() as conn:
        for pid, status in (statuses or {}).items():
            conn.execute(sa.text("UPDATE participants SET status = :s WHERE id = :p"),
                         {"s": status, "p": pid})
        for number, status, started, ended, members in executions:
            conn.execute(sa.text(
                "INSERT INTO executions (campaign_id, execution_number, status, started_at, "
                "ended_at, total_members) VALUES (:c, :n, :s, :a, :e, :m)"),
                {"c": campaign_id, "n": number, "s": status, "a": started, "e": ended,
                 "m": members})
        for row in rows:
            at = row.placed_at or MONDAY
            conn.execute(sa.text("""
                INSERT INTO calls (id, participant_id, campaign_id, contact_id,
                    execution_number, cycle, attempt, status, to_number, from_number,
                    queued_at, dispatch_at, placed_at, ended_at, deadline_at, outcome,
                    duration_s, goal_achieved)
                SELECT :id, p.id, p.campaign_id, p.contact_id, :execution, :cycle, :attempt,
                    :status, p.phone, :from_number, :at, :at, :placed_at, :ended_at,
                    :at + interval '1 hour', :outcome, 0, :goal
                FROM participants p WHERE p.id = :participant"""),
                {"id": str(uuid.uuid4()), "participant": row.participant,
                 "execution": row.execution, "cycle": row.cycle, "attempt": row.attempt,
                 "status": "ended" if row.outcome else
                 ("placed" if row.placed_at else "queued"),
                 "from_number": row.from_number, "at": at, "placed_at": row.placed_at,
                 "ended_at": at if row.outcome else None, "outcome": row.outcome,
                 "goal": row.goal})
