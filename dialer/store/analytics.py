"""The analytics of one campaign (service/analytics.py): each is one SQL aggregation.

They read the calls through ``ix_calls_campaign_placed`` — ``(campaign_id, placed_at)``
INCLUDE the columns these aggregations read (migrations 0008_analytics and
0012_analytics_cycle; tests/integration/test_analytics.py checks each plan) — and the
participants through ``ix_participants_due`` INCLUDE ``id``, so that on a vacuumed
table every one is an index-only scan of the campaign's own rows: the cost follows
the campaign's calls, not the table's (bench/analytics.py, bench/RESULTS.md).

"Placed" is ``placed_at IS NOT NULL`` (a call the provider was asked to ring); "ended"
is ``outcome IS NOT NULL`` (every path that ends a call writes its outcome with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from dialer.statuses import Outcome, ParticipantStatus
from dialer.store.sql import run_core

# Participants taken out before any call: never lined up for a dial.
NEVER_LINED_UP = [ParticipantStatus.SKIPPED_DNC, ParticipantStatus.SKIPPED,
                  ParticipantStatus.CANCELED]

FUNNEL = text("""
    WITH reached AS (
        SELECT participant_id,
               bool_or(outcome = :answered) AS connected,
               bool_or(goal_achieved IS TRUE) AS goal
        FROM calls
        WHERE campaign_id = :campaign_id AND placed_at IS NOT NULL
        GROUP BY participant_id)
    SELECT count(*) AS total,
           count(*) FILTER (WHERE p.status <> ALL(:never_lined_up)
                            OR r.participant_id IS NOT NULL) AS scheduled,
           count(r.participant_id) AS dialed,
           count(*) FILTER (WHERE r.connected) AS connected,
           count(*) FILTER (WHERE r.goal) AS goal_achieved
    FROM participants p LEFT JOIN reached r ON r.participant_id = p.id
    WHERE p.campaign_id = :campaign_id
""")

# Local day (ISO 1 = Monday, minus one) and hour of each placement in the zone given.
# Calls are first counted per quarter hour of UTC, and only those buckets (a few
# thousand for a month, not one per call) are converted to local time: the conversion
# was most of the query's cost. Exact because every zone's offset and every change of
# it falls on a whole quarter hour (true of all zones in use; tests/integration/
# test_analytics.py checks half-hour offsets and DST changes against zoneinfo).
HEATMAP = text("""
    WITH quarters AS (
        SELECT date_bin('15 minutes', placed_at, timestamptz '2000-01-01 00:00Z') AS at,
               count(*) AS placed,
               count(*) FILTER (WHERE outcome = :answered) AS answered
        FROM calls
        WHERE campaign_id = :campaign_id AND placed_at IS NOT NULL
        GROUP BY 1)
    SELECT (extract(isodow FROM at AT TIME ZONE :zone) - 1)::int AS dow,
           extract(hour FROM at AT TIME ZONE :zone)::int AS hour,
           sum(placed) AS placed, sum(answered) AS answered
    FROM quarters
    GROUP BY 1, 2
""")

PICKUP_BY_ATTEMPT = text("""
    SELECT attempt::text AS key, count(*) AS placed,
           count(*) FILTER (WHERE outcome = :answered) AS answered
    FROM calls
    WHERE campaign_id = :campaign_id AND placed_at IS NOT NULL
    GROUP BY attempt ORDER BY attempt
""")

PICKUP_BY_CALLER_ID = text("""
    SELECT from_number AS key, count(*) AS placed,
           count(*) FILTER (WHERE outcome = :answered) AS answered
    FROM calls
    WHERE campaign_id = :campaign_id AND placed_at IS NOT NULL
    GROUP BY from_number ORDER BY count(*) DESC, from_number
""")

# A run's progress counts the contacts whose call of that run ended (ExecutionView's
# processed_members and execution_summary both read it here), once per cycle: a contact
# requeued during the run is a member again (store/leads.py), processed again when its
# new call ends. Failed: those among them whose participant is now failed.
# Each (run, contact, cycle) is first made one row by a GROUP BY of plain columns, which
# PostgreSQL hashes; count(DISTINCT (participant_id, cycle)) sorted every call of the
# campaign by a row value, twice, and spilled to disk above ~30,000 calls: this is
# 2.4 times as fast at 20,000 to 200,000 calls (bench/RESULTS.md), and every campaign
# get runs it (service/steps/campaign_views.py).
EXECUTIONS = text("""
    WITH per_member AS (
        SELECT execution_number, participant_id,
               count(*) FILTER (WHERE placed_at IS NOT NULL) AS calls_placed,
               bool_or(outcome IS NOT NULL) AS ended
        FROM calls
        WHERE campaign_id = :campaign_id
        GROUP BY execution_number, participant_id, cycle),
    per_run AS (
        SELECT m.execution_number, sum(m.calls_placed)::bigint AS calls_placed,
               count(*) FILTER (WHERE m.ended) AS processed,
               count(*) FILTER (WHERE m.ended AND p.status = :failed) AS failed
        FROM per_member m JOIN participants p ON p.id = m.participant_id
        WHERE p.campaign_id = :campaign_id
        GROUP BY m.execution_number)
    SELECT e.execution_number, e.status, e.started_at, e.ended_at, e.total_members,
           coalesce(r.calls_placed, 0) AS calls_placed,
           coalesce(r.processed, 0) AS processed,
           coalesce(r.failed, 0) AS failed
    FROM executions e LEFT JOIN per_run r ON r.execution_number = e.execution_number
    WHERE e.campaign_id = :campaign_id
    ORDER BY e.execution_number
""")


@dataclass(frozen=True)
class FunnelCounts:
    total: int
    scheduled: int
    dialed: int
    connected: int
    goal_achieved: int


@dataclass(frozen=True)
class RunCounts:
    execution_number: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    total_members: int
    calls_placed: int
    processed: int
    failed: int


def funnel(session: Session, campaign_id: str) -> FunnelCounts:
    row = run_core(session, FUNNEL, {"campaign_id": campaign_id, "answered": Outcome.ANSWERED,
                                     "never_lined_up": NEVER_LINED_UP}).one()
    return FunnelCounts(*(int(n) for n in row))


def heatmap(session: Session, campaign_id: str, *, zone: str
            ) -> dict[tuple[int, int], tuple[int, int]]:
    """(local day of week, 0 = Monday; local hour) → (calls placed, answered)."""
    return {(int(dow), int(hour)): (int(placed), int(answered))
            for dow, hour, placed, answered in run_core(session, HEATMAP, {
                "campaign_id": campaign_id, "zone": zone, "answered": Outcome.ANSWERED})}


def pickup_by_attempt(session: Session, campaign_id: str) -> list[tuple[str, int, int]]:
    """(attempt number, calls placed, answered), by attempt."""
    return _pickup(session, PICKUP_BY_ATTEMPT, campaign_id)


def pickup_by_caller_id(session: Session, campaign_id: str
                        ) -> list[tuple[str | None, int, int]]:
    """(caller ID, calls placed, answered), the most used first (None: no caller ID
    was recorded)."""
    return list(_pickup(session, PICKUP_BY_CALLER_ID, campaign_id))


def _pickup(session: Session, statement: TextClause, campaign_id: str
            ) -> list[tuple[str, int, int]]:
    return [(key, int(placed), int(answered)) for key, placed, answered in run_core(
        session, statement, {"campaign_id": campaign_id, "answered": Outcome.ANSWERED})]


def executions(session: Session, campaign_id: str) -> list[RunCounts]:
    return [RunCounts(number, status, started_at, ended_at, int(members), int(placed),
                      int(processed), int(failed))
            for number, status, started_at, ended_at, members, placed, processed, failed
            in run_core(session, EXECUTIONS, {"campaign_id": campaign_id,
                                              "failed": ParticipantStatus.FAILED})]
