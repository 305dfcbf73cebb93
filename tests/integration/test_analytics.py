"""The campaign analytics on the real PostgreSQL, through the client: call rows of known
shape written beside a real campaign, every figure recomputed in Python from those rows;
the heatmap's local day and hour against zoneinfo (a DST change, a half-hour zone);
an empty campaign; another organisation's campaign."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.coordination.memory import (
    MemoryBreakerWindow,
    MemoryChannelLeases,
    MemoryPacingLimiter,
)
from dialer.errors import NotFound
from dialer.provider import CallRequest
from dialer.service.dial import dial
from dialer.service.results import record_result
from dialer.service.runtime import build_runtime
from dialer.service.tick import tick
from dialer.settings import load_settings
from tests.support.analytics_rows import (
    CALLER_A,
    CALLER_B,
    MONDAY,
    Row,
    make_campaign,
    write_rows,
)
from tests.support.clock import FakeClock
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

@pytest.fixture
def clients(two_orgs) -> list[DialerClient]:
    return two_orgs


def test_funnel_pickup_and_executions_agree_with_the_rows(clients):
    client, _ = clients
    campaign_id, p = make_campaign(client, 8)
    t = MONDAY
    rows = [
        # p0: answered on the first attempt, goal reached.
        Row(p[0], 1, "answered", t, goal=True),
        # p1: no answer, then answered without the goal, on another caller ID.
        Row(p[1], 1, "no_answer", t), Row(p[1], 2, "answered", t, CALLER_B, goal=False),
        # p2: three attempts, never answered; now failed.
        Row(p[2], 1, "busy", t), Row(p[2], 2, "no_answer", t, CALLER_B),
        Row(p[2], 3, "failed", t, execution=2),
        # p3: one call in flight (placed, no outcome yet).
        Row(p[3], 1, None, t, CALLER_B, execution=2),
        # p4: a call queued, never placed.
        Row(p[4], 1, None, None, execution=2),
        # p5: dialed once, then the campaign was stopped (canceled after a call).
        Row(p[5], 1, "voicemail", t),
    ]
    # p6: skipped for DNC before any call; p7: still pending.
    statuses = {p[2]: "failed", p[5]: "canceled", p[6]: "skipped_dnc", p[0]: "completed",
                p[1]: "completed"}
    started = MONDAY - timedelta(hours=2)
    write_rows(client, campaign_id, rows, statuses=statuses, executions=[
        (1, "paused", started, started + timedelta(minutes=90), 8),
        (2, "running", started + timedelta(hours=1), None, 8)])

    placed = [r for r in rows if r.placed_at]
    funnel = client.funnel(campaign_id)
    assert (funnel.total, funnel.scheduled, funnel.dialed, funnel.connected,
            funnel.goal_achieved) == (
        8, 8 - 1,  # p6 alone never lined up (p5 was canceled, but after a call)
        len({r.participant for r in placed}),
        len({r.participant for r in placed if r.outcome == "answered"}),
        len({r.participant for r in placed if r.goal}))
    assert (funnel.dialed, funnel.connected, funnel.goal_achieved) == (5, 2, 1)
    assert funnel.called_pct == 62.5 and funnel.connected_pct == 25.0
    assert [s.name for s in funnel.steps] == ["total", "scheduled", "dialed", "connected",
                                              "goal_achieved"]
    assert [s.pct_of_previous for s in funnel.steps] == [100.0, 87.5, 71.4, 40.0, 50.0]

    by_attempt = {r.key: (r.placed, r.answered, r.rate)
                  for r in client.pickup_by_attempt(campaign_id)}
    expected = Counter(r.attempt for r in placed)
    answered = Counter(r.attempt for r in placed if r.outcome == "answered")
    assert by_attempt == {str(a): (n, answered[a], round(answered[a] / n, 4))
                          for a, n in expected.items()}
    assert list(by_attempt) == ["1", "2", "3"]

    by_caller = client.pickup_by_caller_id(campaign_id)
    expected_callers = Counter(r.from_number for r in placed)
    assert [(r.key, r.placed, r.answered) for r in by_caller] == [
        (CALLER_A, expected_callers[CALLER_A], 1), (CALLER_B, expected_callers[CALLER_B], 1)]
    assert by_caller[0].placed >= by_caller[1].placed  # the most used first

    summary = client.execution_summary(campaign_id)
    assert (summary.total, summary.running, summary.paused, summary.completed,
            summary.failed, summary.stopped) == (2, 1, 1, 0, 0, 0)
    first, second = summary.executions
    assert first.duration_s == 90 * 60
    assert first.calls_placed == len([r for r in placed if r.execution == 1])
    # Ended calls of run 1: p0, p1, p2, p5; p2 is failed.
    assert (first.processed_members, first.failed_members, first.progress_pct) == (
        4, 1, 50.0)
    assert (second.processed_members, second.failed_members, second.calls_placed) == (1, 1, 2)
    assert second.ended_at is None
    assert second.duration_s == pytest.approx(
        (client.now() - second.started_at).total_seconds(), abs=60)
    # The same progress as the campaign's own executions show.
    shown = client.get(campaign_id).campaign.executions
    assert [(x.processed_members, x.failed_members) for x in shown] == [
        (r.processed_members, r.failed_members) for r in summary.executions]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_runs_progress_counts_each_contact_once_per_cycle_whose_call_in_it_ended(
        clients, seed):
    """Random calls over three runs and three cycles (a requeued or recurring contact),
    recomputed from the rows: calls placed per run, and per run the (contact, cycle)
    pairs with an ended call in it, and those of them whose contact is now failed."""
    client, _ = clients
    campaign_id, p = make_campaign(client, 30)
    draw = random.Random(seed)
    rows = [Row(pid, attempt, draw.choice(["answered", "busy", None]),
                draw.choice([MONDAY, MONDAY, None]), execution=draw.randint(1, 3), cycle=cycle)
            for pid in p for cycle in range(draw.randint(1, 3))
            for attempt in range(1, draw.randint(1, 4))]
    rows = [dataclasses.replace(r, outcome=None) if r.placed_at is None else r for r in rows]
    statuses = {pid: draw.choice(["failed", "completed", "pending"]) for pid in p}
    write_rows(client, campaign_id, rows, statuses=statuses, executions=[
        (n, "paused", MONDAY, MONDAY, 30) for n in (1, 2, 3)])

    runs = client.execution_summary(campaign_id).executions
    ended = [r for r in rows if r.outcome]
    assert [(x.calls_placed, x.processed_members, x.failed_members) for x in runs] == [(
        len([r for r in rows if r.placed_at and r.execution == n]),
        len({(r.participant, r.cycle) for r in ended if r.execution == n}),
        len({(r.participant, r.cycle) for r in ended if r.execution == n
             and statuses[r.participant] == "failed"})) for n in (1, 2, 3)]


def _local(instant: datetime, zone: str) -> tuple[int, int]:
    local = instant.astimezone(ZoneInfo(zone))
    return local.weekday(), local.hour


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
                                  "Australia/Lord_Howe"])
def test_the_heatmap_reads_day_and_hour_in_the_campaigns_zone(clients, zone):
    client, _ = clients
    campaign_id, p = make_campaign(client, 1, timezone=zone)
    fixed = [
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),   # Sunday 23:30 UTC
        datetime(2026, 3, 8, 6, 30, tzinfo=UTC),    # New York: 01:30 EST, before the change
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),    # New York: 03:30 EDT, after it
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),   # New York: 01:30 EDT, the hour repeated
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),   # New York: 01:30 EST
        datetime(2026, 4, 5, 14, 45, tzinfo=UTC),   # Lord Howe: its half-hour DST ends
    ]
    draw = random.Random(14)
    spread = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=draw.randrange(366 * 86400))
              for _ in range(150)]
    instants = fixed + spread
    rows = [Row(p[0], index + 1, draw.choice(["answered", "no_answer"]), at)
            for index, at in enumerate(instants)]
    write_rows(client, campaign_id, rows)

    heatmap = client.heatmap(campaign_id)
    assert heatmap.timezone == zone
    assert len(heatmap.cells) == 7 * 24 and heatmap.placed == len(rows)
    expected: Counter[tuple[int, int]] = Counter(_local(r.placed_at, zone) for r in rows)
    answered: Counter[tuple[int, int]] = Counter(
        _local(r.placed_at, zone) for r in rows if r.outcome == "answered")
    got = {(c.dow, c.hour): (c.placed, c.answered) for c in heatmap.cells if c.placed}
    assert got == {key: (n, answered[key]) for key, n in expected.items()}
    cell = heatmap.cells[0]
    assert (cell.dow, cell.day, cell.hour) == (0, "mon", 0)
    assert all(c.answer_rate == round(c.answered / c.placed, 4) for c in heatmap.cells
               if c.placed)
    if zone == "America/New_York":
        by_key = {(c.dow, c.hour): c.placed for c in heatmap.cells}
        assert by_key[(6, 18)] >= 1  # Sunday 23:30 UTC is Sunday 18:30 in New York
        assert by_key[(6, 1)] >= 3 and by_key[(6, 3)] >= 1  # 01:30 EST/EDT twice, 03:30


def test_an_empty_campaign_divides_by_nothing(clients):
    client, _ = clients
    audience = client.create_audience("empty", [])
    campaign_id = client.create_campaign(campaign_spec(audience.id)).id

    funnel = client.funnel(campaign_id)
    assert (funnel.total, funnel.dialed, funnel.called_pct, funnel.connected_pct) == (
        0, 0, 0.0, 0.0)
    assert all(s.pct_of_total == 0.0 and s.pct_of_previous == 0.0 for s in funnel.steps)
    heatmap = client.heatmap(campaign_id)
    assert heatmap.placed == 0 and len(heatmap.cells) == 168
    assert {c.answer_rate for c in heatmap.cells} == {0.0}
    assert client.pickup_by_attempt(campaign_id) == []
    assert client.pickup_by_caller_id(campaign_id) == []
    summary = client.execution_summary(campaign_id)
    assert summary.total == 0 and summary.executions == []


def test_a_run_with_members_but_no_calls_shows_no_progress(clients):
    client, _ = clients
    campaign_id, _ = make_campaign(client, 3)
    write_rows(client, campaign_id, [], executions=[(1, "completed", MONDAY, MONDAY, 0),
                                                (2, "stopped", MONDAY, MONDAY, 3)])
    summary = client.execution_summary(campaign_id)
    assert [(r.progress_pct, r.duration_s, r.calls_placed) for r in summary.executions] == [
        (0.0, 0.0, 0), (0.0, 0.0, 0)]
    assert (summary.completed, summary.stopped) == (1, 1)


@pytest.mark.parametrize("method", ["funnel", "heatmap", "pickup_by_attempt",
                                    "pickup_by_caller_id", "execution_summary"])
def test_another_organisations_campaign_is_not_found(clients, method):
    default, acme = clients
    campaign_id, p = make_campaign(default, 1)
    write_rows(default, campaign_id, [Row(p[0], 1, "answered", MONDAY)])
    with pytest.raises(NotFound) as foreign:
        getattr(acme, method)(campaign_id)
    with pytest.raises(NotFound) as unknown:
        getattr(acme, method)(str(uuid.uuid4()))
    assert str(foreign.value).replace(campaign_id, "X") == str(unknown.value).replace(
        str(unknown.value).split()[1], "X")
    getattr(default, method)(campaign_id)  # its own organisation sees it


def _scans(plan: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(node type, relation, index) of every scan in an EXPLAIN (FORMAT JSON) plan."""
    own = [(plan["Node Type"], plan["Relation Name"], plan.get("Index Name"))
           ] if "Relation Name" in plan else []
    return own + [scan for child in plan.get("Plans", []) for scan in _scans(child)]


@pytest.mark.parametrize("query", ["FUNNEL", "HEATMAP", "PICKUP_BY_ATTEMPT",
                                   "PICKUP_BY_CALLER_ID", "EXECUTIONS"])
def test_every_analytics_query_reads_calls_and_participants_from_an_index_alone(
        clients, query):
    """What keeps their cost the campaign's, not the table's (bench/RESULTS.md): every
    column read of calls is in ix_calls_campaign_placed, of participants in
    ix_participants_due. Sequential and bitmap scans are turned off because on a few
    rows the planner would rightly pick them; what is left to choose is an index scan,
    which reads each row from the heap, or an index-only scan, which PostgreSQL plans
    exactly when the index holds every column the query reads of that table."""
    from dialer.store import analytics as store

    client, _ = clients
    campaign_id, p = make_campaign(client, 2)
    write_rows(client, campaign_id, [Row(p[0], 1, "answered", MONDAY, goal=True)],
               executions=[(1, "running", MONDAY, None, 2)])
    params = {"campaign_id": campaign_id, "answered": "answered", "zone": "America/New_York",
              "never_lined_up": store.NEVER_LINED_UP, "failed": "failed"}
    statement = getattr(store, query)
    # Vacuumed, as the bench's tables are: an index-only scan skips the heap only for
    # pages the visibility map marks all-visible, and the planner costs it so.
    with client.runtime.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE calls, participants"))
    with client.runtime.engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        [plan] = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + statement.text),
                              {k: v for k, v in params.items()
                               if f":{k}" in statement.text}).one()
    scans = [scan for scan in _scans(plan[0]["Plan"])
             if scan[1] in ("calls", "participants")]
    assert scans and all(scan == ("Index Only Scan", table, index) for scan in scans
                         for table, index in [(scan[1], {
                             "calls": "ix_calls_campaign_placed",
                             "participants": "ix_participants_due"}[scan[1]])]), scans


# -- a campaign run by the real use cases ------------------------------------------------


class _Dispatcher:
    def __init__(self) -> None:
        self.dials: list[str] = []

    def send_dial(self, call_id: str, *, countdown_s: float = 0.0) -> None:
        self.dials.append(call_id)

    def send_result(self, call_id: str, **kwargs: Any) -> None:
        pass


class _Ledger:
    """The provider: every call placed, as the provider saw it."""

    def __init__(self) -> None:
        self.placed: dict[str, CallRequest] = {}

    def place_call(self, request: CallRequest) -> str:
        self.placed[request.call_id] = request
        return f"provider-{request.call_id}"


def test_a_campaign_run_by_the_real_use_cases_agrees_with_the_providers_ledger(
        clean_state, database_url):
    """Tick, dial and result (coordination in memory, no Celery): the analytics count
    what the provider was asked to place and the results it gave."""
    start = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    clock, dispatcher, ledger = FakeClock(start), _Dispatcher(), _Ledger()
    settings = load_settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0",
                             tick_seconds=1.0)
    rt = dataclasses.replace(
        build_runtime(settings, dispatcher=dispatcher, provider_factory=lambda _: ledger,
                      pool_size=2),
        clock=clock, leases=MemoryChannelLeases(), limiter=MemoryPacingLimiter(),
        breaker=MemoryBreakerWindow())
    client = DialerClient(runtime=rt)
    try:
        numbers = [client.add_phone_number(n).id for n in (CALLER_A, CALLER_B)]
        audience = client.create_audience("run", ny_contacts([["answered"]] * 6))
        campaign_id = client.create_campaign(campaign_spec(
            audience.id, phone_number_ids=numbers, pacing={"channels": 6})).id
        client.start(campaign_id)
        # First attempts: two answers (one reaching the goal), then busy, no answer,
        # voicemail, failed; the three that retry are answered on their second attempt.
        first = ["answered", "answered", "busy", "no_answer", "voicemail", "failed"]
        results: dict[str, tuple[str, bool | None]] = {}
        for round_outcomes in (first, ["answered"] * 3):
            tick(rt)
            todo = [c for c in dispatcher.dials if c not in ledger.placed]
            assert [dial(rt, c) for c in todo] == ["placed"] * len(round_outcomes)
            clock.advance(30)
            for call_id, outcome in zip(todo, round_outcomes, strict=True):
                goal = (not results) if outcome == "answered" else None  # the first only
                results[call_id] = (outcome, goal)
                assert record_result(rt, call_id, outcome=outcome, duration_s=10.0,
                                     goal_achieved=goal) == "recorded"
            clock.advance(120)  # past the retry delay

        placed = ledger.placed.values()
        contacts = {r.contact_id for r in placed}
        answered = {ledger.placed[c].contact_id for c, (o, _) in results.items()
                    if o == "answered"}
        goals = {ledger.placed[c].contact_id for c, (_, g) in results.items() if g}
        funnel = client.funnel(campaign_id)
        assert (funnel.total, funnel.scheduled, funnel.dialed, funnel.connected,
                funnel.goal_achieved) == (6, 6, len(contacts), len(answered), len(goals))
        assert (funnel.dialed, funnel.connected, funnel.goal_achieved) == (6, 5, 1)

        by_attempt = {r.key: (r.placed, r.answered) for r in client.pickup_by_attempt(
            campaign_id)}
        assert by_attempt == {
            str(a): (sum(r.attempt == a for r in placed),
                     sum(ledger.placed[c].attempt == a for c, (o, _) in results.items()
                         if o == "answered"))
            for a in {r.attempt for r in placed}}
        by_caller = {r.key: r.placed for r in client.pickup_by_caller_id(campaign_id)}
        assert by_caller == dict(Counter(r.from_number for r in placed))
        heatmap = client.heatmap(campaign_id)
        assert heatmap.placed == len(ledger.placed)
        assert {(c.dow, c.hour) for c in heatmap.cells if c.placed} == {(0, 10)}
        summary = client.execution_summary(campaign_id)
        # Every contact ended: the campaign completed, and its one run with it.
        assert client.get(campaign_id).campaign.status == "completed"
        assert (summary.total, summary.completed, summary.running) == (1, 1, 0)
        assert summary.executions[0].progress_pct == 100.0
        assert summary.executions[0].calls_placed == len(ledger.placed)
        assert summary.executions[0].processed_members == len(contacts)
    finally:
        client.close()
        rt.close()
