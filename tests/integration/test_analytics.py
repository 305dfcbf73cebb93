"""The campaign analytics on the real PostgreSQL, through the client: call rows of known
shape written beside a real campaign, every figure recomputed in Python from those rows;
the heatmap's local day and hour against zoneinfo (a DST change, a half-hour zone);
an empty campaign; another organisation's campaign."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.errors import NotFound
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

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


def _campaign(client: DialerClient, contacts: int, **spec: Any) -> tuple[str, list[int]]:
    audience = client.create_audience("analytics", ny_contacts([["answered"]] * contacts))
    campaign = client.create_campaign(campaign_spec(audience.id, **spec))
    with client.runtime.engine.connect() as conn:
        ids = [pid for (pid,) in conn.execute(sa.text(
            "SELECT id FROM participants WHERE campaign_id = :c ORDER BY id"),
            {"c": campaign.id})]
    return campaign.id, ids


def _write(client: DialerClient, campaign_id: str, rows: list[Row], *,
           statuses: dict[int, str] | None = None,
           executions: list[tuple[int, str, datetime, datetime | None, int]] = ()) -> None:
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
                SELECT :id, p.id, p.campaign_id, p.contact_id, :execution, 0, :attempt,
                    :status, p.phone, :from_number, :at, :at, :placed_at, :ended_at,
                    :at + interval '1 hour', :outcome, 0, :goal
                FROM participants p WHERE p.id = :participant"""),
                {"id": str(uuid.uuid4()), "participant": row.participant,
                 "execution": row.execution, "attempt": row.attempt,
                 "status": "ended" if row.outcome else
                 ("placed" if row.placed_at else "queued"),
                 "from_number": row.from_number, "at": at, "placed_at": row.placed_at,
                 "ended_at": at if row.outcome else None, "outcome": row.outcome,
                 "goal": row.goal})


@pytest.fixture
def clients(two_orgs) -> list[DialerClient]:
    return two_orgs


def test_funnel_pickup_and_executions_agree_with_the_rows(clients):
    client, _ = clients
    campaign_id, p = _campaign(client, 8)
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
    _write(client, campaign_id, rows, statuses=statuses, executions=[
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


def _local(instant: datetime, zone: str) -> tuple[int, int]:
    local = instant.astimezone(ZoneInfo(zone))
    return local.weekday(), local.hour


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
                                  "Australia/Lord_Howe"])
def test_the_heatmap_reads_day_and_hour_in_the_campaigns_zone(clients, zone):
    client, _ = clients
    campaign_id, p = _campaign(client, 1, timezone=zone)
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
    _write(client, campaign_id, rows)

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
    campaign_id, _ = _campaign(client, 3)
    _write(client, campaign_id, [], executions=[(1, "completed", MONDAY, MONDAY, 0),
                                                (2, "stopped", MONDAY, MONDAY, 3)])
    summary = client.execution_summary(campaign_id)
    assert [(r.progress_pct, r.duration_s, r.calls_placed) for r in summary.executions] == [
        (0.0, 0.0, 0), (0.0, 0.0, 0)]
    assert (summary.completed, summary.stopped) == (1, 1)


@pytest.mark.parametrize("method", ["funnel", "heatmap", "pickup_by_attempt",
                                    "pickup_by_caller_id", "execution_summary"])
def test_another_organisations_campaign_is_not_found(clients, method):
    default, acme = clients
    campaign_id, p = _campaign(default, 1)
    _write(default, campaign_id, [Row(p[0], 1, "answered", MONDAY)])
    with pytest.raises(NotFound) as foreign:
        getattr(acme, method)(campaign_id)
    with pytest.raises(NotFound) as unknown:
        getattr(acme, method)(str(uuid.uuid4()))
    assert str(foreign.value).replace(campaign_id, "X") == str(unknown.value).replace(
        str(unknown.value).split()[1], "X")
    getattr(default, method)(campaign_id)  # its own organisation sees it
