"""Paths that start from a call take its campaign's row before the call's and the
participant's rows (ARCHITECTURE.md, "Locks"), so none of them deadlocks with a
transition holding the campaign's row.

Each test holds two real transactions on the real PostgreSQL at the point where the
old order deadlocked (threads, a barrier inside the provider, and a table lock the
test holds; no sleeps), then lets them go: PostgreSQL reported a deadlock there and
aborted one side, which the worker then retried."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dialer.client import DialerClient
from dialer.provider import CallRefused, CallRequest
from dialer.service.dial import dial
from dialer.service.results import DEADLINE_DETAIL, record_result
from dialer.service.steps import campaign_commands, campaign_state, settle
from dialer.service.sweep import sweep
from dialer.service.tick import TickReport, tick
from dialer.store import campaigns
from tests.integration.test_use_cases_in_memory import NO_REDIS, World
from tests.integration.test_use_cases_in_memory import world as world  # the fixture
from tests.support.scenario import campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

WAIT_S = 30.0


def with_settings(world: World, **settings: Any) -> None:
    world.rt = dataclasses.replace(world.rt, settings=world.rt.settings.model_copy(
        update=settings))


def sessions_waiting_for_a_lock(world: World) -> int:
    """Sessions of this test's database blocked on a lock (table, row or transaction)."""
    [(count,)] = world.query("SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND wait_event_type = 'Lock'")
    return int(count)


class Refusing:
    """Refuses every call (for good unless told otherwise); the calls in ``held`` first
    wait in ``place_call`` until the test lets them go (``entered`` is a barrier the test
    passes with them)."""

    def __init__(self, held: set[str], *, permanent: bool = True) -> None:
        self.held, self.permanent = held, permanent
        self.entered = threading.Barrier(len(held) + 1)
        self.go = threading.Event()

    def place_call(self, request: CallRequest) -> str:
        if request.call_id in self.held:
            self.entered.wait(WAIT_S)
            assert self.go.wait(WAIT_S), "the test never let the provider answer"
        raise CallRefused("account suspended", permanent=self.permanent)


def in_threads(*jobs: Callable[[], str]) -> tuple[list[threading.Thread], list[object]]:
    """Start each job in a thread; their answers (or exceptions) in the list, in any order."""
    answers: list[object] = []

    def run(job: Callable[[], str]) -> None:
        try:
            answers.append(job())
        except Exception as exc:  # the test asserts on it
            answers.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    return threads, answers


def test_two_refusals_for_good_at_once_fail_the_campaign_without_a_deadlock(
        world: World) -> None:
    """Each refusal used to record its skip (a KEY SHARE on the campaign's row, through
    the foreign key) and then, counting enough refusals, ask for the row FOR UPDATE to
    fail the campaign: each waited for the other's KEY SHARE."""
    with_settings(world, fail_after_provider_refusals=2, provider_timeout_s=WAIT_S * 2)
    campaign_id = world.launch(3)
    world.clock.advance(60)  # past the run's start, which the client's clock set
    tick(world.rt)
    first, *held = world.dispatcher.dialed()
    refusing = Refusing(set(held))
    world.rt = dataclasses.replace(world.rt, provider_factory=lambda _: refusing)
    assert dial(world.rt, first) == "returned:provider_refused"  # one refusal counted
    assert status_of_campaign(world, campaign_id) == "running"

    threads, answers = in_threads(*(lambda c=c: dial(world.rt, c) for c in held))
    refusing.entered.wait(WAIT_S)  # both dials are in place_call, their claims committed
    counting = sa.create_engine(world.database_url)
    try:
        with counting.begin() as conn:
            # Each refusal records its skip, then counts the run's refusals and fails the
            # campaign: held at its skip together (as they were before the campaign's
            # row was taken first; now one of them waits for that row instead).
            conn.execute(sa.text("LOCK TABLE skips IN ACCESS EXCLUSIVE MODE"))
            refusing.go.set()
            wait_for(lambda: sessions_waiting_for_a_lock(world) >= len(held),
                     timeout_s=WAIT_S, what="both refusals waiting for a lock")
    finally:
        counting.dispose()
    for thread in threads:
        thread.join(WAIT_S * 2)

    assert answers == ["returned:provider_refused"] * 2, answers
    assert status_of_campaign(world, campaign_id) == "failed"
    assert [a for (a,) in world.query(
        "SELECT action FROM events WHERE campaign_id = :c AND action = 'failed'",
        c=campaign_id)] == ["failed"]


def status_of_campaign(world: World, campaign_id: str) -> str:
    [(status,)] = world.query("SELECT status FROM campaigns WHERE id = :c", c=campaign_id)
    return str(status)



def test_a_refusal_put_back_while_the_campaign_fails_does_not_deadlock(world: World) -> None:
    """The refusal used to delete its call and restore its participant, then wait for the
    campaign's row (its skip's foreign key) held by the failure, which closes the calls
    holding a channel: this one among them."""
    with_settings(world, provider_timeout_s=WAIT_S * 2)
    campaign_id = world.launch(1)
    world.clock.advance(60)
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    refusing = Refusing({call_id}, permanent=False)  # rate limited, say
    world.rt = dataclasses.replace(world.rt, provider_factory=lambda _: refusing)
    threads, answers = in_threads(lambda: dial(world.rt, call_id))
    refusing.entered.wait(WAIT_S)  # the call is claimed and marked placed, committed
    with world.rt.transaction() as session:
        # What failing the campaign locks first (no active caller ID at the tick, say).
        assert campaigns.get(session, campaign_id, lock=True) is not None
        refusing.go.set()
        wait_for(lambda: sessions_waiting_for_a_lock(world) >= 1, timeout_s=WAIT_S,
                 what="the refusal waiting for the campaign's row")
        assert campaign_state.fail(session, campaign_id, now=world.clock.now(),
                                   reason="test", detail="failed by the test")
    threads[0].join(WAIT_S * 2)

    assert answers == ["returned:provider_refused"], answers
    assert status_of_campaign(world, campaign_id) == "failed"
    # Closed by the failure as a call in progress; the refusal found it so.
    assert world.query("SELECT status, outcome FROM calls") == [("ended", "failed")]


class HeldPacing:
    """The pacing limiter, asked by the dial between its claim and marking the call
    placed (one transaction): it waits there until the test lets it go."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked = threading.Event()
        self.go = threading.Event()

    def try_acquire(self, *args: Any, **kwargs: Any) -> Any:
        self.asked.set()
        assert self.go.wait(WAIT_S), "the test never let the dial go on"
        return self.inner.try_acquire(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _fail(session: Session, campaign_id: str, now: datetime) -> None:
    assert campaign_state.fail(session, campaign_id, now=now, reason="test",
                               detail="failed by the test")


def _stop(session: Session, campaign_id: str, now: datetime) -> None:
    campaign_commands.stop(session, campaign_id, now=now, source="api")


def _pause(session: Session, campaign_id: str, now: datetime) -> None:
    campaign_commands.pause(session, campaign_id, now=now, source="api")


@pytest.mark.parametrize(("transition", "status", "call"), [
    (_fail, "failed", ("ended", "failed")),  # a call in progress is closed so
    (_stop, "stopped", ("placed", None)),  # a call in flight finishes
    (_pause, "paused", ("placed", None)),
])
def test_a_dial_claiming_its_call_while_the_campaign_changes_does_not_deadlock(
        world: World, transition: Callable[[Session, str, datetime], None], status: str,
        call: tuple[str, str | None]) -> None:
    """The dial's claim used to lock the call and, marking it placed, only then its
    campaign's row (KEY SHARE, the call's foreign key checked again because the claim had
    updated the row): a failure, a stop or a pause holding the row FOR UPDATE and
    withdrawing the queued calls waited for that call. The command's own retry on a lost
    deadlock (test_command_conflicts.py) is left out: the transition runs as it is."""
    campaign_id = world.launch(1)
    world.clock.advance(60)
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    pacing = HeldPacing(world.rt.limiter)
    world.rt = dataclasses.replace(world.rt, limiter=pacing)
    dials, answers = in_threads(lambda: dial(world.rt, call_id))
    assert pacing.asked.wait(WAIT_S)  # the call claimed, not yet marked placed

    def change() -> str:
        with world.rt.transaction() as session:
            transition(session, campaign_id, world.clock.now())
        return "changed"

    changing, changed = in_threads(change)
    wait_for(lambda: sessions_waiting_for_a_lock(world) >= 1, timeout_s=WAIT_S,
             what=f"the {status} transition waiting for the dial")
    pacing.go.set()
    for thread in dials + changing:
        thread.join(WAIT_S * 2)

    assert (answers, changed) == (["placed"], ["changed"])
    assert status_of_campaign(world, campaign_id) == status
    assert world.query("SELECT status, outcome FROM calls") == [call]


def test_a_result_arriving_while_the_campaign_fails_does_not_deadlock(world: World) -> None:
    """The result used to end its call and lock its participant, then wait for the
    campaign's row (KEY SHARE) held by the failure, which closes the calls holding a
    channel: this one among them. Now it waits for the row first, and finds its call
    closed by the failure: the late result is ignored (campaign_state.fail)."""
    campaign_id = world.launch(1)
    world.clock.advance(60)
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    assert dial(world.rt, call_id) == "placed"
    with world.rt.transaction() as session:
        # What failing the campaign locks first (no active caller ID at the tick, say).
        assert campaigns.get(session, campaign_id, lock=True) is not None
        results, answers = in_threads(lambda: record_result(world.rt, call_id,
                                                            outcome="answered"))
        wait_for(lambda: sessions_waiting_for_a_lock(world) >= 1, timeout_s=WAIT_S,
                 what="the result waiting for the campaign's row")
        _fail(session, campaign_id, world.clock.now())
    results[0].join(WAIT_S * 2)

    assert answers == ["ignored"], answers
    assert status_of_campaign(world, campaign_id) == "failed"
    assert world.query("SELECT status, outcome, detail FROM calls") == [
        ("ended", "failed", "campaign failed")]


class HeldRetryPolicy:
    """The retry policy (``settle.next_step``, a pure rule), asked by a result after it
    has ended its call and locked its participant, before it settles the participant and
    completes the campaign (one transaction): the first call waits there until the test
    lets it go."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner
        self.asked = threading.Event()
        self.go = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.asked.is_set():
            self.asked.set()
            assert self.go.wait(WAIT_S), "the test never let the result go on"
        return self.inner(*args, **kwargs)


def held_result(world: World, monkeypatch: pytest.MonkeyPatch, call_id: str, outcome: str,
                ) -> tuple[list[threading.Thread], list[object], HeldRetryPolicy]:
    """The result of ``call_id`` started in a thread and held holding its campaign's KEY
    SHARE, its call and its participant."""
    policy = HeldRetryPolicy(settle.next_step)
    monkeypatch.setattr(settle, "next_step", policy)
    threads, answers = in_threads(lambda: record_result(world.rt, call_id, outcome=outcome))
    assert policy.asked.wait(WAIT_S)
    return threads, answers, policy


def test_the_last_result_while_the_tick_fails_the_campaign_does_not_deadlock(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The campaign's last result (holding the row KEY SHARE) used to ask for it FOR
    UPDATE to complete the campaign, while the tick failing it for want of a caller ID
    (holding it FOR NO KEY UPDATE, which a KEY SHARE does not exclude) asked for it FOR
    UPDATE too: each waited for the other. The result now leaves the completion to
    whoever holds the row; here the tick, which fails the campaign."""
    with_settings(world, fail_no_caller_id_after_s=600)
    with DialerClient(database_url=world.database_url, redis_url=NO_REDIS,
                      time_origin=f"{world.clock.now().isoformat()}@{time.time()}") as client:
        number = client.add_phone_number("+12125550100")
        audience = client.create_audience("people", ny_contacts([["answered"]]))
        campaign_id = client.create_campaign(campaign_spec(
            audience.id, phone_number_ids=[number.id])).id
        client.start(campaign_id)
        world.clock.advance(60)
        tick(world.rt)
        [call_id] = world.dispatcher.dialed()
        assert dial(world.rt, call_id) == "placed"
        client.set_phone_number_active(number.id, False)
    tick(world.rt)  # no caller ID since now
    world.clock.advance(601)

    results, answers, policy = held_result(world, monkeypatch, call_id, "answered")
    ticks, ticked = in_threads(lambda: tick(world.rt))
    wait_for(lambda: sessions_waiting_for_a_lock(world) >= 1, timeout_s=WAIT_S,
             what="the tick waiting for the result to fail the campaign")
    policy.go.set()
    for thread in results + ticks:
        thread.join(WAIT_S * 2)

    assert answers == ["recorded"], answers
    assert [type(t) for t in ticked] == [TickReport], ticked
    assert status_of_campaign(world, campaign_id) == "failed"
    assert world.query("SELECT status, outcome FROM calls") == [("ended", "answered")]
    assert world.query("SELECT status FROM participants") == [("completed",)]


def test_the_last_result_while_a_late_answer_completes_its_contact_does_not_deadlock(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The late answer of the contact's first attempt (closed at its deadline) holds that
    ended call and the campaign's KEY SHARE, and waits for the contact's row; the result
    of its retry, the campaign's last, holding that row, used to ask for the campaign's
    FOR UPDATE to complete it: each waited for the other. The result now leaves the
    completion to the late answer, which completes the campaign."""
    campaign_id = world.launch(1)
    world.clock.advance(60)
    tick(world.rt)
    [first] = world.dispatcher.dialed()
    assert dial(world.rt, first) == "placed"
    closed = record_result(world.rt, first, outcome="failed", detail=DEADLINE_DETAIL)
    assert closed == "recorded"  # by the sweep, at the call's deadline
    world.clock.advance(120)  # past the retry delay
    tick(world.rt)
    [_, second] = world.dispatcher.dialed()
    assert dial(world.rt, second) == "placed"

    results, answers, policy = held_result(world, monkeypatch, second, "answered")
    lates, late = in_threads(lambda: record_result(world.rt, first, outcome="answered",
                                                   detail="webhook"))
    wait_for(lambda: sessions_waiting_for_a_lock(world) >= 1, timeout_s=WAIT_S,
             what="the late answer waiting for the contact")
    policy.go.set()
    for thread in results + lates:
        thread.join(WAIT_S * 2)

    assert (answers, late) == (["recorded"], ["reconciled"])
    assert status_of_campaign(world, campaign_id) == "completed"
    assert world.query("SELECT status, last_outcome FROM participants") == [
        ("completed", "answered")]


@pytest.mark.parametrize("finisher", ["tick", "sweep"])
@pytest.mark.parametrize("recurring", [False, True])
def test_a_last_result_that_finds_the_campaign_row_held_leaves_its_completion_to_the_tick(
        world: World, finisher: str, recurring: bool) -> None:
    """The last result completes the campaign only when its row is free (it holds the
    row's KEY SHARE and may not wait for FOR UPDATE, above): held by a dial's claim, say,
    the result commits without completing it, and the next tick or sweep does all a
    completion does: the status, the run's end, the ``completed`` event, and for a
    recurring campaign its next cycle."""
    campaign_id = world.launch(1, **({"schedule": {"recurrence": "daily"}} if recurring
                                     else {}))
    world.clock.advance(60)
    tick(world.rt)
    [call_id] = world.dispatcher.dialed()
    assert dial(world.rt, call_id) == "placed"
    holder = sa.create_engine(world.database_url)
    try:
        with holder.begin() as conn:
            conn.execute(sa.text("SELECT 1 FROM campaigns WHERE id = :c FOR KEY SHARE"),
                         {"c": campaign_id})
            assert record_result(world.rt, call_id, outcome="answered") == "recorded"
    finally:
        holder.dispose()
    assert status_of_campaign(world, campaign_id) == "running"
    assert world.query("SELECT ended_at FROM executions") == [(None,)]
    [(cycle,)] = world.query("SELECT cycle FROM participants")

    if finisher == "tick":
        assert tick(world.rt).completed == [campaign_id]
    else:
        sweep(world.rt)

    [(status, scheduled_at)] = world.query(
        "SELECT status, scheduled_at FROM campaigns WHERE id = :c", c=campaign_id)
    assert status == ("scheduled" if recurring else "completed")
    [(run_status, ended_at)] = world.query("SELECT status, ended_at FROM executions")
    assert (run_status, ended_at) == ("completed", world.clock.now())
    events = [a for (a,) in world.query(
        "SELECT action FROM events WHERE campaign_id = :c ORDER BY id", c=campaign_id)]
    assert events.count("completed") == 1
    if recurring:
        assert events[-1] == "scheduled" and scheduled_at > world.clock.now()
        assert world.query("SELECT status, cycle, attempts FROM participants") == [
            ("pending", cycle + 1, 0)]


def test_a_refusal_for_good_after_the_run_placed_a_call_does_not_wait_for_the_campaign(
        world: World) -> None:
    """A run that has placed a call cannot fail for refusals: such a refusal takes the
    campaign's row KEY SHARE, as a put-back does, not FOR UPDATE, so it does not wait
    for the campaign's dials and results (here, a transaction holding the row KEY
    SHARE as they do)."""
    with_settings(world, fail_after_provider_refusals=1, provider_timeout_s=WAIT_S * 2)
    campaign_id = world.launch(2)
    world.clock.advance(60)
    tick(world.rt)
    first, second = world.dispatcher.dialed()
    assert dial(world.rt, first) == "placed"
    refusing = Refusing(set())
    world.rt = dataclasses.replace(world.rt, provider_factory=lambda _: refusing)
    holder = sa.create_engine(world.database_url)
    try:
        with holder.begin() as conn:
            conn.execute(sa.text("SELECT 1 FROM campaigns WHERE id = :c FOR KEY SHARE"),
                         {"c": campaign_id})
            dials, answers = in_threads(lambda: dial(world.rt, second))
            dials[0].join(WAIT_S)
            assert answers == ["returned:provider_refused"], answers
    finally:
        holder.dispose()
    assert status_of_campaign(world, campaign_id) == "running"
