"""Remote control by task name, from a Celery app that imports nothing of ours."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from celery import Celery

from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def rows(database_url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        result = [tuple(r) for r in conn.execute(sa.text(sql))]
    engine.dispose()
    return result


def test_enqueue_campaign_twice_creates_one_and_starts_it(make_stack, clean_state,
                                                          database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=3)
    stack.start_beat()
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    spec = campaign_spec(None, external_id="crm-42")
    spec.pop("audience_id")
    contacts = ny_contacts([["answered"]] * 3)

    senders = [threading.Thread(target=remote.send_task, args=("dialer.enqueue_campaign",),
                                kwargs={"kwargs": {"spec": spec, "contacts": contacts,
                                                   "start": True}}) for _ in range(3)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()

    client = stack.client()
    wait_for(lambda: len(client.list()) == 1 and status_of(client, client.list()[0].id)
             == "completed", timeout_s=60, what="the enqueued campaign completed")
    wait_for(lambda: rows(database_url, "SELECT count(*) FROM audiences")[0][0] >= 1,
             timeout_s=5, what="audience")
    assert [c.external_id for c in client.list()] == ["crm-42"]
    assert client.get(client.list()[0].id).metrics.calls_placed == 3


def test_invalid_remote_requests_are_recorded_not_retried(make_stack, clean_state, database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    worker = stack.start_worker(concurrency=2)
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    remote.send_task("dialer.enqueue_campaign",
                     kwargs={"spec": {"name": "", "retry": {"max_retries": 99}}})
    remote.send_task("dialer.campaign_command",
                     kwargs={"campaign_id": "00000000-0000-0000-0000-000000000000",
                             "command": "start"})
    remote.send_task("dialer.campaign_command",
                     kwargs={"campaign_id": "00000000-0000-0000-0000-000000000000",
                             "command": "explode"})
    wait_for(lambda: rows(database_url, "SELECT count(*) FROM rejected_requests")[0][0] == 3,
             timeout_s=30, what="three rejected requests recorded")
    recorded = rows(database_url, "SELECT task, errors FROM rejected_requests ORDER BY id")
    fields = {field for _, errors in recorded for field, _ in errors}
    assert {"name", "retry.max_retries", "command"} <= fields
    assert "Retry in" not in worker.log_path.read_text()


def test_campaign_command_drives_the_lifecycle(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    # One process: the two commands are handled in the order they were sent.
    stack.start_worker(concurrency=1)
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]] * 2))
    campaign = client.create_campaign(campaign_spec(audience.id))
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    remote.send_task("dialer.campaign_command",
                     kwargs={"campaign_id": campaign.id, "command": "allocate_channels",
                             "channels": 7})
    remote.send_task("dialer.campaign_command",
                     kwargs={"campaign_id": campaign.id, "command": "stop"})
    wait_for(lambda: status_of(client, campaign.id) == "stopped", timeout_s=30,
             what="stopped by remote command")
    events = client.events(campaign.id)
    assert [e.source for e in events if e.action in ("stopped", "channels_allocated")] == [
        "api", "api"]


def test_remove_contacts_by_task_name_takes_them_out_of_the_campaign(make_stack, clean_state,
                                                                     database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    worker = stack.start_worker(concurrency=2)  # no beat: nobody is dialed meanwhile
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]] * 3))
    campaign = client.create_campaign(campaign_spec(audience.id))
    client.start(campaign.id)
    first, second, kept = sorted(p.contact_id for p in client.participants(campaign.id))
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)

    sent = remote.send_task("dialer.campaign_command", queue="dialer.control", kwargs={
        "campaign_id": campaign.id, "command": "remove_contacts",
        "contact_ids": [first, second]})
    remote.send_task("dialer.campaign_command", queue="dialer.control", kwargs={
        "campaign_id": campaign.id, "command": "remove_contacts",
        "contact_ids": [kept, 987654]})
    wait_for(lambda: client.rejected_requests() and [
        e for e in client.events(campaign.id) if e.action == "contacts_removed"],
        timeout_s=30, what="one removal applied and one refused")

    statuses = {p.contact_id: (p.status, p.skip_reason)
                for p in client.participants(campaign.id)}
    assert statuses == {first: ("canceled", "removed"), second: ("canceled", "removed"),
                        kept: ("pending", None)}
    assert client.audience(audience.id).count == 1
    [event] = [e for e in client.events(campaign.id) if e.action == "contacts_removed"]
    assert event.source == "api"
    [refused] = client.rejected_requests()
    assert refused.errors == [["contact_ids", "not current members of the campaign's "
                               "audience (never added, or removed already): 987654"]]
    # The task's JSON result, as the worker logs it (senders keep no results).
    wait_for(lambda: f"{sent.id}] succeeded" in worker.log_path.read_text(), timeout_s=10,
             what="the task's result logged")
    [line] = [x for x in worker.log_path.read_text().splitlines() if f"{sent.id}] succ" in x]
    assert line.endswith(f"{{'ok': True, 'campaign_id': '{campaign.id}', 'removed': 2}}")
    assert rows(database_url, "SELECT count(*) FROM contacts WHERE removed_at IS NOT NULL") \
        == [(2,)]
