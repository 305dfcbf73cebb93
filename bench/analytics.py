"""The campaign analytics on 1,000,000 calls (issue 14), against a full scan of calls.

    .venv/bin/python bench/analytics.py [--calls 1000000] [--campaigns 50] [--runs 7]
        [--database-url postgresql+psycopg://.../dialer_bench_NAME] [--redis-url ...]

Builds its own database (``dialer_bench_analytics`` unless ``--database-url`` names
another ``dialer_bench_*``; dropped and recreated, migrated)
with set-based INSERT ... SELECT over generate_series: ``--campaigns`` campaigns of
the same audience, 2.5 calls per participant on average (attempts 1 to 4), so the
measured campaign (the first) has ``--calls / --campaigns`` calls. ``--campaigns 1``
puts every call in one campaign. Then VACUUM ANALYZE, and for each analytics query
(the store functions the client runs, through a Session) and for a full scan of
calls (``SELECT count(*), sum(duration_s) FROM calls``): the median of ``--runs``
timed runs after one warm-up, and the query's time as a ratio to the scan's. Prints
each query's EXPLAIN (ANALYZE) plan, to show the index it uses, how long
rebuilding the migration's covering index takes (the lock of the upgrade), and what
the covering index costs a call's writes: the WAL bytes and time of a call's insert and
three updates (as the hot path writes them) with the plain index of 0006, the covering
one of 0008 and the one of 0012 (cycle included), alternated.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import fresh_state  # noqa: E402
from dialer.statuses import Outcome, ParticipantStatus  # noqa: E402
from dialer.store import analytics as store  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_analytics"
REDIS_URL = "redis://127.0.0.1:6379/10"
TARGET_MS = 200.0
CALLS_PER_PARTICIPANT = 2.5  # attempts 1..4, one participant in four each
ZONE = "America/New_York"

# Everything set-based: one statement per table, rows derived from generate_series and
# from the ids already inserted, so the 1M calls take seconds, not a Python loop.
SEED = [
    """INSERT INTO audiences (id, org_id, name, created_at)
       SELECT 'a0000000-0000-4000-8000-000000000001', id, 'bench', now()
       FROM organisations WHERE name = 'default'""",
    """INSERT INTO phone_numbers (id, org_id, number, provider, is_active, created_at)
       SELECT 'n0000000-0000-4000-8000-00000000000' || i, o.id, '+1415555010' || i,
              'simulated', true, now()
       FROM organisations o, generate_series(0, 4) i WHERE o.name = 'default'""",
    """INSERT INTO contacts (audience_id, phone, attributes, secondary_phones)
       SELECT 'a0000000-0000-4000-8000-000000000001', '+1212' || lpad(i::text, 7, '0'),
              '{}', '[]'
       FROM generate_series(1, :contacts) i""",
    """INSERT INTO campaigns (id, org_id, name, agent_id, audience_id, phone_number_ids, spec,
                              status, timezone, priority, breaker_open, caller_id_cursor,
                              created_at, updated_at, dispatch_failures)
       SELECT 'c0000000-0000-4000-8000-' || lpad(i::text, 12, '0'), o.id, 'bench ' || i,
              'agent-1', 'a0000000-0000-4000-8000-000000000001', '[]', '{}',
              'completed', :zone, 0, false, 0, now(), now(), 0
       FROM organisations o, generate_series(1, :campaigns) i WHERE o.name = 'default'""",
    # Statuses as a finished campaign leaves them, a few skipped or canceled.
    """INSERT INTO participants (campaign_id, contact_id, phone, status, attempts, cycle,
                                 phone_index, phone_attempts)
       SELECT c.id, k.id, k.phone,
              CASE WHEN k.id % 50 = 0 THEN :canceled WHEN k.id % 97 = 0 THEN :skipped
                   WHEN k.id % 3 = 0 THEN :failed ELSE :completed END,
              1 + k.id % 4, 0, 0, 0
       FROM campaigns c CROSS JOIN contacts k""",
    """INSERT INTO executions (campaign_id, execution_number, status, started_at, ended_at,
                               total_members)
       SELECT c.id, n, CASE WHEN n = 3 THEN 'completed' ELSE 'paused' END,
              timestamptz '2026-03-02 09:00-05' + (n - 1) * interval '9 days',
              timestamptz '2026-03-02 09:00-05' + (n - 1) * interval '9 days'
                  + interval '8 days', :contacts
       FROM campaigns c, generate_series(1, 3) n""",
    # Attempts 1..n of each participant (by contact, so every campaign has the same
    # shape); placed over four weeks from five caller IDs; about a third answered, a
    # third of those reaching the goal; one call in a hundred never placed.
    """INSERT INTO calls (id, participant_id, campaign_id, contact_id, execution_number,
                          cycle, attempt, status, to_number, from_number, queued_at,
                          dispatch_at, placed_at, ended_at, deadline_at, outcome,
                          duration_s, goal_achieved)
       SELECT gen_random_uuid()::text, p.id, p.campaign_id, p.contact_id,
              1 + (a - 1) % 3, 0, a, x.status, p.phone,
              '+1415555010' || ((p.contact_id + a) % 5), x.at, x.at, x.placed, x.placed,
              x.at + interval '1 hour', x.outcome,
              CASE WHEN x.outcome = :answered THEN 60 ELSE 0 END,
              CASE WHEN x.outcome = :answered THEN (p.contact_id + a) % 3 = 0 END
       FROM participants p
       CROSS JOIN LATERAL generate_series(1, 1 + (p.contact_id % 4)::int) a
       CROSS JOIN LATERAL (SELECT
              timestamptz '2026-03-02 00:00Z'
                  + ((p.id * 7919 + a * 104729) % (28 * 86400)) * interval '1 second' AS at,
              ((p.contact_id * 31 + a * 17) % 100) AS roll) h
       CROSS JOIN LATERAL (SELECT h.at,
              CASE WHEN h.roll = 99 THEN 'queued' ELSE 'ended' END AS status,
              CASE WHEN h.roll = 99 THEN NULL ELSE h.at END AS placed,
              CASE WHEN h.roll = 99 THEN NULL
                   WHEN h.roll < 33 THEN :answered WHEN h.roll < 70 THEN :no_answer
                   WHEN h.roll < 85 THEN :busy WHEN h.roll < 95 THEN :voicemail
                   ELSE :failed_outcome END AS outcome) x""",
]


def build(engine: sa.Engine, *, calls: int, campaigns: int) -> dict[str, int]:
    contacts = round(calls / campaigns / CALLS_PER_PARTICIPANT)
    params = {"contacts": contacts, "campaigns": campaigns, "zone": ZONE,
              "canceled": ParticipantStatus.CANCELED, "skipped": ParticipantStatus.SKIPPED,
              "failed": ParticipantStatus.FAILED, "completed": ParticipantStatus.COMPLETED,
              "answered": Outcome.ANSWERED, "no_answer": Outcome.NO_ANSWER,
              "busy": Outcome.BUSY, "voicemail": Outcome.VOICEMAIL,
              "failed_outcome": Outcome.FAILED}
    started = time.perf_counter()
    with engine.begin() as conn:
        # Indexes built once after the load rather than row by row during it.
        indexes = [definition for (definition,) in conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE tablename IN ('calls', 'participants') "
            "AND indexname LIKE 'ix_%'"))]
        for definition in indexes:
            conn.execute(sa.text("DROP INDEX " + definition.split()[2]))
        for statement in SEED:
            conn.execute(sa.text(statement),
                         {k: v for k, v in params.items() if f":{k}" in statement})
        for definition in indexes:
            conn.execute(sa.text(definition))
    built_s = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        rows = conn.execute(sa.text("SELECT count(*) FROM calls")).scalar_one()
        measured = conn.execute(sa.text(
            "SELECT count(*) FROM calls WHERE campaign_id = :id"),
            {"id": first_campaign()}).scalar_one()
        participants = conn.execute(sa.text("SELECT count(*) FROM participants")).scalar_one()
    print(f"built {rows:,} calls ({measured:,} in the measured campaign), "
          f"{participants:,} participants, in {built_s:.1f} s")
    return {"calls": int(rows), "measured": int(measured)}


def first_campaign() -> str:
    return "c0000000-0000-4000-8000-000000000001"


def median_ms(run: Callable[[], Any], runs: int) -> float:
    run()  # warm-up: plans cached, pages in shared buffers
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def explain(session: Session, statement: sa.TextClause, params: dict[str, Any]) -> list[str]:
    return [line for (line,) in session.execute(
        sa.text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement.text), params)]


# A call's life as the hot path writes it (queued, claimed, placed, ended), for a batch
# of the measured campaign's participants in a cycle of their own, each statement under
# EXPLAIN (ANALYZE, WAL): the WAL it wrote is what its index updates cost, whatever
# else the machine is doing. Rolled back after.
CALL_LIFE = [
    """INSERT INTO calls (id, participant_id, campaign_id, contact_id, execution_number, cycle,
                          attempt, status, to_number, from_number, queued_at, dispatch_at,
                          deadline_at)
       SELECT gen_random_uuid()::text, id, campaign_id, contact_id, 1, 99, 1, 'queued',
              phone, '+14155550100', now(), now(), now() + interval '1 hour'
       FROM participants WHERE campaign_id = :campaign_id ORDER BY id LIMIT :batch""",
    "UPDATE calls SET status = 'dialing' WHERE campaign_id = :campaign_id AND cycle = 99",
    """UPDATE calls SET status = 'placed', placed_at = now(), provider_call_id = 'p-' || id
       WHERE campaign_id = :campaign_id AND cycle = 99""",
    """UPDATE calls SET status = 'ended', ended_at = now(), outcome = 'answered',
                       duration_s = 42, goal_achieved = true
       WHERE campaign_id = :campaign_id AND cycle = 99""",
]
_CREATE = "CREATE INDEX ix_calls_campaign_placed ON calls (campaign_id, placed_at)"
_INCLUDE_0008 = "participant_id, execution_number, attempt, from_number, outcome, goal_achieved"
INDEXES = {"0006 plain": _CREATE,
           "0008 covering": f"{_CREATE} INCLUDE ({_INCLUDE_0008})",
           "0012 covering": f"{_CREATE} INCLUDE ({_INCLUDE_0008}, cycle)"}


def call_life_cost(engine: sa.Engine, *, batch: int) -> tuple[float, float, float]:
    """(WAL bytes, full page images, milliseconds) per call of CALL_LIFE, rolled back.
    A checkpoint first, so every round starts alike: the first change of a page after
    a checkpoint logs the whole page, which would otherwise depend on when the server
    last checkpointed."""
    wal, fpi, ms = 0, 0, 0.0
    with engine.connect() as conn:
        conn.execute(sa.text("CHECKPOINT"))
        conn.commit()
        for statement in CALL_LIFE:
            [plan] = conn.execute(sa.text("EXPLAIN (ANALYZE, WAL, FORMAT JSON) " + statement),
                                  {"campaign_id": first_campaign(), "batch": batch}).one()
            wal += int(plan[0]["Plan"].get("WAL Bytes", 0))
            fpi += int(plan[0]["Plan"].get("WAL FPI", 0))
            ms += float(plan[0]["Execution Time"])
        conn.rollback()
    return wal / batch, fpi / batch, ms / batch


def write_cost(engine: sa.Engine, *, batch: int, rounds: int) -> None:
    """The call's writes with each of INDEXES, alternated, medians; the last one built
    is the migrations' head (0012), as the database was."""
    results: dict[str, list[tuple[float, float, float]]] = {label: [] for label in INDEXES}
    for _ in range(rounds):
        for label, ddl in INDEXES.items():
            with engine.begin() as conn:
                conn.execute(sa.text("DROP INDEX ix_calls_campaign_placed"))
                conn.execute(sa.text(ddl))
            results[label].append(call_life_cost(engine, batch=batch))
    print(f"\na call's writes (insert queued, claim, place, end; {batch} calls, median of "
          f"{rounds}):\n")
    print("| ix_calls_campaign_placed | WAL bytes per call | full page images per call "
          "| ms per call |")
    print("|---|---|---|---|")
    medians = {}
    for label, runs in results.items():
        medians[label] = tuple(statistics.median(run[i] for run in runs) for i in range(3))
        wal, fpi, ms = medians[label]
        print(f"| {label} | {wal:.0f} | {fpi:.2f} | {ms:.4f} |")
    for new, old in (("0008 covering", "0006 plain"), ("0012 covering", "0006 plain"),
                     ("0012 covering", "0008 covering")):
        (w0, f0, m0), (w1, f1, m1) = medians[old], medians[new]
        print(f"| ratio {new[:4]} ÷ {old[:4]} | {w1 / w0:.3f} | {f1 / max(f0, 1e-9):.3f} "
              f"| {m1 / m0:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=DATABASE_URL,
                        help="dropped and recreated (a dialer_bench_* database)")
    parser.add_argument("--redis-url", default=REDIS_URL, help="flushed (a bench db)")
    parser.add_argument("--no-plans", action="store_true", help="skip the EXPLAIN output")
    parser.add_argument("--write-batch", type=int, default=2000,
                        help="calls per round of the write-cost measure")
    args = parser.parse_args()
    fresh_state(args.database_url, args.redis_url)
    engine = sa.create_engine(args.database_url)
    build(engine, calls=args.calls, campaigns=args.campaigns)
    cid = first_campaign()
    answered = {"campaign_id": cid, "answered": Outcome.ANSWERED}
    queries: dict[str, tuple[Callable[[Session], Any], sa.TextClause, dict[str, Any]]] = {
        "funnel": (lambda s: store.funnel(s, cid), store.FUNNEL,
                   {**answered, "never_lined_up": store.NEVER_LINED_UP}),
        "heatmap": (lambda s: store.heatmap(s, cid, zone=ZONE), store.HEATMAP,
                    {**answered, "zone": ZONE}),
        "pickup_by_attempt": (lambda s: store.pickup_by_attempt(s, cid),
                              store.PICKUP_BY_ATTEMPT, answered),
        "pickup_by_caller_id": (lambda s: store.pickup_by_caller_id(s, cid),
                                store.PICKUP_BY_CALLER_ID, answered),
        "executions": (lambda s: store.executions(s, cid), store.EXECUTIONS,
                       {"campaign_id": cid, "failed": ParticipantStatus.FAILED}),
    }
    full_scan = sa.text("SELECT count(*), sum(duration_s) FROM calls")
    with Session(engine) as session:
        scan_ms = median_ms(lambda: session.execute(full_scan).one(), args.runs)
        timings = {name: median_ms(lambda q=q: q(session), args.runs)  # type: ignore[misc]
                   for name, (q, _, _) in queries.items()}
        plans = {name: explain(session, statement, params)
                 for name, (_, statement, params) in queries.items()}
    print(f"\nfull scan of calls: {scan_ms:.1f} ms (median of {args.runs})\n")
    print(f"| query | median ms | ÷ full scan | under {TARGET_MS:.0f} ms |")
    print("|---|---|---|---|")
    for name, ms in timings.items():
        print(f"| {name} | {ms:.1f} | {ms / scan_ms:.3f} | "
              f"{'yes' if ms < TARGET_MS else '**no**'} |")
    if not args.no_plans:
        for name, lines in plans.items():
            print(f"\n-- {name}")
            print("\n".join(lines))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        started = time.perf_counter()
        conn.execute(sa.text("REINDEX INDEX ix_calls_campaign_placed"))
        print(f"\nrebuilding ix_calls_campaign_placed on {args.calls:,} calls: "
              f"{time.perf_counter() - started:.1f} s")
    write_cost(engine, batch=args.write_batch, rounds=3)
    engine.dispose()


if __name__ == "__main__":
    main()
