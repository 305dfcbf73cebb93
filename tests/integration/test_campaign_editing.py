"""update_campaign on the real PostgreSQL (in process: nothing here needs a worker),
the agent a campaign needs to start, and one real worker seeing a pacing edit."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from celery import Celery

from dialer.client import DialerClient
from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.lifecycle import NO_AGENT
from tests.support.recording import read_ledger
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, launch, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def new_campaign(client: DialerClient, **overrides) -> str:
    audience = client.create_audience("people", ny_contacts([["answered"]] * 3))
    return client.create_campaign(campaign_spec(audience.id, **overrides)).id


def actions(client: DialerClient, campaign_id: str) -> list[tuple[str, str | None]]:
    return [(e.action, e.detail) for e in client.events(campaign_id)]


def stored_spec(database_url: str, campaign_id: str) -> dict:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        spec = conn.execute(sa.text("SELECT spec FROM campaigns WHERE id = :id"),
                            {"id": campaign_id}).scalar_one()
    engine.dispose()
    return spec


def test_a_draft_changes_anything_and_the_event_lists_the_fields(client):
    campaign_id = new_campaign(client)
    view = client.update_campaign(campaign_id, {
        "name": "renamed", "priority": 5, "pacing": {"channels": 7},
        "schedule": {"call_window": {"end": "20:00"}}, "retry": {"max_retries": 0}})
    assert (view.name, view.priority, view.channels) == ("renamed", 5, 7)
    assert view.spec["schedule"]["call_window"] == {"start": "09:00", "end": "20:00"}
    # Fields the patch did not name are kept.
    assert view.spec["schedule"]["allowed_days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert view.spec["retry"]["retry_delay_minutes"] == 1
    assert actions(client, campaign_id)[-1] == (
        "updated", "name, pacing.channels, priority, retry.max_retries, "
                   "schedule.call_window.end")
    # null clears an optional field; restating a value changes (and records) nothing.
    client.update_campaign(campaign_id, {"description": "x", "pacing": {"daily_limit": 50}})
    view = client.update_campaign(campaign_id, {"description": None,
                                                "pacing": {"daily_limit": None}})
    assert view.description is None and view.spec["pacing"]["daily_limit"] is None
    events = len(client.events(campaign_id))
    client.update_campaign(campaign_id, {"name": "renamed", "pacing": {"channels": 7}})
    assert len(client.events(campaign_id)) == events


def test_an_invalid_patch_names_every_field_and_writes_nothing(client, database_url):
    campaign_id = client.start(new_campaign(client)).id
    before = stored_spec(database_url, campaign_id)
    events = len(client.events(campaign_id))
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {
            "name": "new name",                        # not while running
            "pacing": {"channels": -1, "calls_per_minute": 30},
            "retry": {"max_retries": 1},               # not while running
            "nonsense": 1})
    assert set(info.value.fields) == {"name", "retry.max_retries", "nonsense",
                                      "pacing.channels"}
    assert ("name", "cannot change while running") in info.value.errors
    assert ("nonsense", "Extra inputs are not permitted") in info.value.errors
    assert ("pacing.channels", "Input should be greater than or equal to 0") \
        in info.value.errors
    assert stored_spec(database_url, campaign_id) == before
    assert len(client.events(campaign_id)) == events
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, ["not", "an", "object"])  # type: ignore[arg-type]
    assert info.value.fields == ["patch"]


def test_running_takes_pacing_and_the_end_date_only(client, database_url):
    campaign_id = client.start(new_campaign(client)).id
    view = client.update_campaign(campaign_id, {
        "pacing": {"channels": 9, "calls_per_minute": 30, "spacing_seconds": 1,
                   "daily_limit": 100},
        "schedule": {"end_date": "2026-12-31"}})
    assert view.status == "running" and view.channels == 9
    assert stored_spec(database_url, campaign_id)["pacing"]["calls_per_minute"] == 30
    for patch, field in [({"agent_id": "other"}, "agent_id"),
                         ({"schedule": {"call_window": {"end": "20:00"}}},
                          "schedule.call_window.end"),
                         ({"external_id": "x"}, "external_id")]:
        with pytest.raises(ValidationError) as info:
            client.update_campaign(campaign_id, patch)
        assert info.value.fields == [field]


def test_a_value_restated_in_another_form_is_no_change(client):
    # Created with an offset of +00:00, stored (and shown) as ...Z; the days in week order.
    at = (client.now() + timedelta(hours=1)).replace(microsecond=0)
    campaign_id = new_campaign(client, scheduled_at=at.isoformat())
    client.start(campaign_id)
    events = len(client.events(campaign_id))
    view = client.update_campaign(campaign_id, {
        "scheduled_at": at.astimezone(ZoneInfo("America/New_York")).isoformat(),
        "schedule": {"allowed_days": ["fri", "thu", "wed", "tue", "mon", "mon"]},
        "pacing": {"spacing_seconds": 0}})
    assert view.status == "running"
    assert len(client.events(campaign_id)) == events
    # Beside an invalid value too: the refusal names that one, not the restated days.
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {
            "schedule": {"allowed_days": ["fri", "mon", "tue", "wed", "thu"]},
            "pacing": {"channels": -1}})
    assert info.value.fields == ["pacing.channels"]


def test_paused_takes_the_calendar_and_the_policy_and_due_contacts_follow(client,
                                                                          database_url):
    campaign_id = client.start(new_campaign(client)).id
    client.pause(campaign_id)
    # As if the tick had moved every contact to a far opening of the old calendar.
    later = client.now() + timedelta(days=3)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE participants SET next_attempt_at = :at"), {"at": later})
    view = client.update_campaign(campaign_id, {
        "schedule": {"call_window": {"start": "08:00"}, "allowed_days": ["sat"]},
        "timezone": "Europe/Paris", "retry": {"max_retries": 5},
        "call_handling": {"ring_timeout_s": 20}, "safety": {"respect_dnc": False},
        "description": "weekend"})
    assert view.status == "paused" and view.timezone == "Europe/Paris"
    with engine.connect() as conn:
        due = conn.execute(sa.text("SELECT max(next_attempt_at) FROM participants")).scalar_one()
    engine.dispose()
    assert due <= client.now()
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {"phone_number_ids": [], "agent_id": "b",
                                             "pacing": {"channels": 2}})
    assert info.value.errors == [("agent_id", "the agent never changes once set")]


@pytest.mark.parametrize("offset", ["Z", "+02:00"])
def test_an_edit_repairing_a_broken_stored_spec_keeps_its_start(client, database_url, offset):
    # A paused campaign that started at its scheduled time, an hour ago, its start
    # stored as given (...Z or +02:00), and a spec that no longer parses (a bound
    # tightened since, or a hand edit of the row). The repair changes the pacing only:
    # the start it restates is not a change (no refusal while paused, no past-start
    # check, no calendar move of waiting contacts).
    campaign_id = client.start(new_campaign(client)).id
    client.pause(campaign_id)
    started = (client.now() - timedelta(hours=1)).replace(microsecond=0)
    given = (started.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
             if offset == "Z" else started.astimezone(timezone(timedelta(hours=2))).isoformat())
    assert given.endswith(offset)
    later = client.now() + timedelta(days=3)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE campaigns SET scheduled_at = :at, spec = jsonb_set(jsonb_set(spec, "
            "'{scheduled_at}', to_jsonb(CAST(:given AS text))), '{pacing,channels}', '-5') "
            "WHERE id = :id"), {"at": started, "given": given, "id": campaign_id})
        conn.execute(sa.text("UPDATE participants SET next_attempt_at = :at"), {"at": later})
    events = len(client.events(campaign_id))
    view = client.update_campaign(campaign_id, {"pacing": {"channels": 3}})
    assert (view.status, view.channels, view.scheduled_at) == ("paused", 3, started)
    assert actions(client, campaign_id)[events:] == [("updated", "pacing.channels")]
    with engine.connect() as conn:
        waiting = conn.execute(sa.text("SELECT min(next_attempt_at) FROM participants"))
        assert waiting.scalar_one() == later
    engine.dispose()


def test_nothing_changes_once_ended(client):
    campaign_id = new_campaign(client)
    client.stop(campaign_id)
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {"pacing": {"channels": 2}, "name": "x"})
    assert dict(info.value.errors) == {
        "name": "cannot change a campaign that is stopped",
        "pacing.channels": "cannot change a campaign that is stopped"}


def test_a_draft_is_scheduled_moved_and_unscheduled(client):
    campaign_id = new_campaign(client)
    at = client.now() + timedelta(days=1)
    view = client.update_campaign(campaign_id, {"scheduled_at": at.isoformat()})
    assert view.status == "scheduled" and view.scheduled_at == at
    moved = at + timedelta(hours=2)
    view = client.update_campaign(campaign_id, {"scheduled_at": moved.isoformat(),
                                                "name": "moved"})
    assert view.status == "scheduled" and view.scheduled_at == moved
    view = client.update_campaign(campaign_id, {"scheduled_at": None})
    assert view.status == "draft" and view.scheduled_at is None
    log = actions(client, campaign_id)
    assert [a for a, _ in log] == ["created", "updated", "scheduled", "updated", "scheduled",
                                   "updated", "unscheduled"]
    assert log[4][1] == f"moved to {moved.isoformat()}"
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {"scheduled_at": (client.now() - timedelta(
            hours=1)).isoformat()})
    assert info.value.fields == ["scheduled_at"]


def test_the_audience_of_a_campaign_that_never_ran_can_be_replaced(client):
    campaign_id = new_campaign(client)
    first = client.get(campaign_id).campaign.audience_id
    other = client.create_audience("others", ny_contacts([["answered"]] * 5, start=100))
    client.update_campaign(campaign_id, {"audience_id": other.id})
    assert len(client.participants(campaign_id)) == 5
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {"audience_id": "00000000-0000-4000-8000-"
                                                            "000000000000"})
    assert info.value.fields == ["audience_id"]
    client.start(campaign_id)
    client.pause(campaign_id)
    with pytest.raises(ValidationError) as info:
        client.update_campaign(campaign_id, {"audience_id": first, "name": "n"})
    assert info.value.fields == ["audience_id"]


def test_another_organisations_campaign_is_not_found(two_orgs):
    default, acme = two_orgs
    campaign_id = new_campaign(default)
    with pytest.raises(NotFound):
        acme.update_campaign(campaign_id, {"name": "mine"})


# -- the agent a campaign needs ------------------------------------------------------

def test_without_an_agent_a_campaign_stays_a_draft_and_readiness_agrees(client):
    campaign_id = new_campaign(client, agent_id=None)
    assert client.get(campaign_id).campaign.status == "draft"
    agent_check = {c.name: c for c in client.readiness(campaign_id).checks}["agent"]
    assert not agent_check.ok and agent_check.detail == NO_AGENT
    with pytest.raises(InvalidTransition) as info:
        client.start(campaign_id)
    assert info.value.field == "agent_id" and NO_AGENT in str(info.value)
    # Neither can it wait for a start: scheduling needs the agent too.
    with pytest.raises(ValidationError) as refused:
        client.update_campaign(campaign_id, {
            "scheduled_at": (client.now() + timedelta(hours=1)).isoformat()})
    assert refused.value.fields == ["agent_id"]
    with pytest.raises(ValidationError) as refused:
        audience = client.create_audience("more", ny_contacts([["answered"]]))
        client.create_campaign(campaign_spec(audience.id, agent_id=None, scheduled_at=(
            client.now() + timedelta(hours=1)).isoformat()))
    assert refused.value.fields == ["agent_id"]

    client.update_campaign(campaign_id, {"agent_id": "agent-9"})
    agent_check = {c.name: c for c in client.readiness(campaign_id).checks}["agent"]
    assert agent_check.ok
    assert client.start(campaign_id).status == "running"


def test_a_scheduled_campaign_without_an_agent_waits_for_one(client, database_url):
    from dialer.service.steps.campaign_state import start_due_scheduled

    campaign_id = new_campaign(client, scheduled_at=(client.now() + timedelta(
        minutes=5)).isoformat())
    # A campaign scheduled before agents were required (no way to make one now).
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET agent_id = NULL"))
    engine.dispose()
    later = client.now() + timedelta(minutes=10)
    with client.runtime.transaction() as session:
        assert start_due_scheduled(session, now=later) == []
    client.update_campaign(campaign_id, {"agent_id": "agent-2"})
    with client.runtime.transaction() as session:
        assert start_due_scheduled(session, now=later) == [campaign_id]


# -- a real worker -------------------------------------------------------------------

def test_a_running_campaigns_pacing_edit_takes_effect_on_the_next_tick(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=30)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    # Calls of 40 real seconds: one channel holds one call that long.
    campaign_id = launch(client, ny_contacts([["answered"]] * 6, talk_s=1200),
                         pacing={"channels": 1}, call_handling={"max_duration_s": 1800})
    wait_for(lambda: len(read_ledger(clean_state)) >= 1, timeout_s=30, what="the first call")
    assert len(read_ledger(clean_state)) == 1
    # Sent as another service sends it: the task, through the broker, to the worker.
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    remote.send_task("dialer.campaign_command", kwargs={
        "campaign_id": campaign_id, "command": "update", "patch": {"pacing": {"channels": 3}}})
    wait_for(lambda: len(read_ledger(clean_state)) >= 3, timeout_s=10,
             what="two more calls on the new channels, while the first one still talks")
    assert client.get(campaign_id).metrics.in_progress == 3
    assert [(e.action, e.source, e.detail) for e in client.events(campaign_id)
            if e.action == "updated"] == [("updated", "api", "pacing.channels")]


# -- remote control and the command line ---------------------------------------------

def test_the_remote_update_is_refused_with_its_fields_and_applied_once(client):
    from dialer.service import remote

    campaign_id = client.start(new_campaign(client)).id
    result = remote.campaign_command(client.runtime, campaign_id, "update",
                                     {"patch": {"name": "x", "pacing": {"channels": 0}}},
                                     command_id="task-1")
    assert result["ok"] is False and result["error"] == "ValidationError"
    assert client.rejected_requests()[0].errors == [["name", "cannot change while running"]]
    assert client.get(campaign_id).campaign.channels == 4
    ok = remote.campaign_command(client.runtime, campaign_id, "update",
                                 {"patch": {"pacing": {"channels": 0}}}, command_id="task-2")
    assert ok == {"ok": True, "campaign_id": campaign_id, "status": "running"}
    again = remote.campaign_command(client.runtime, campaign_id, "update",
                                    {"patch": {"pacing": {"channels": 6}}}, command_id="task-2")
    assert again["error"] == "AlreadyApplied"
    assert client.get(campaign_id).campaign.channels == 0


def test_a_remote_start_without_an_agent_creates_nothing_and_names_it(client):
    from dialer.service import remote

    audience = client.create_audience("people", ny_contacts([["answered"]]))
    result = remote.enqueue_campaign(client.runtime, campaign_spec(audience.id, agent_id=None),
                                     contacts=None, start=True, request_id="task-3")
    assert result["ok"] is False and result["error"] == "InvalidTransition"
    assert client.rejected_requests()[0].errors[0][0] == "agent_id"
    assert client.list() == []


def test_the_update_command(cli_environment):
    from tests.support.cli import run

    env = cli_environment(MONDAY_9AM_NY.isoformat())
    campaign_id = new_campaign(env, agent_id=None)
    code, out, err = run("campaign", "update", campaign_id, "--set", "pacing.channels=6",
                         "--set", "schedule.call_window.end=20:00", "--set", "agent_id=a-7",
                         "--set", "schedule.allowed_days=[mon, sat]", "--unset",
                         "pacing.daily_limit")
    assert code == 0, err
    assert out.strip() == (f"campaign {campaign_id}: updated agent_id, pacing.channels, "
                           f"schedule.allowed_days, schedule.call_window.end (draft)")
    spec = env.get(campaign_id).campaign.spec
    assert spec["schedule"]["allowed_days"] == ["mon", "sat"]
    assert [e.source for e in env.events(campaign_id) if e.action == "updated"] == ["manual"]
    env.start(campaign_id)
    code, _, err = run("campaign", "update", campaign_id, "--set", "name=other",
                       "--set", "pacing.channels=-1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "name: cannot change while running" in err and "pacing.channels" in err
    code, _, err = run("campaign", "update", campaign_id, "--set", "channels")
    assert code == 2 and "FIELD=VALUE" in err
