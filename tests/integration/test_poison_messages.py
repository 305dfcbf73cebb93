"""Hostile or malformed messages from a foreign sender cannot kill a worker.

Each poison is sent to a real worker subprocess; afterwards the same worker
(same process) still carries out a normal command, and each poison is in
``rejected_requests`` exactly once, under its task id. The messages that a
Celery client refuses to build (``args`` not a list, ``kwargs`` not a dict, a
body that is not ``[args, kwargs, embed]``) are published with kombu, as any
other AMQP/Redis client could.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from celery import Celery
from kombu import Connection, Producer

from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

CONTROL = "dialer.control"


def rows(database_url: str, sql: str, **params: Any) -> list[tuple]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        result = [tuple(r) for r in conn.execute(sa.text(sql), params)]
    engine.dispose()
    return result


def publish_raw(broker_url: str, name: str, body: Any, *, task_id: str | None = None,
                queue: str = CONTROL) -> str:
    """A Celery protocol 2 message with whatever body, as a non-Celery client sends it."""
    task_id = task_id or str(uuid.uuid4())
    headers = {"lang": "py", "task": name, "id": task_id, "shadow": None, "eta": None,
               "expires": None, "group": None, "group_index": None, "retries": 0,
               "timelimit": [None, None], "root_id": task_id, "parent_id": None,
               "argsrepr": "", "kwargsrepr": "", "origin": "foreign", "ignore_result": True}
    with Connection(broker_url) as conn:
        Producer(conn).publish(body, routing_key=queue, exchange="", serializer="json",
                               headers=headers, correlation_id=task_id)
    return task_id


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def rejected(database_url: str) -> dict[str, list[tuple[str, list[Any]]]]:
    found: dict[str, list[tuple[str, list[Any]]]] = {}
    for request_id, task, errors in rows(
            database_url, "SELECT request_id, task, errors FROM rejected_requests ORDER BY id"):
        found.setdefault(request_id, []).append((task, errors))
    return found


def test_poison_messages_are_recorded_once_and_the_worker_lives_on(make_stack, clean_state,
                                                                   database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    worker = stack.start_worker(concurrency=1)
    broker = stack.env["DIALER_BROKER_URL"]
    remote = Celery(broker=broker, set_as_current=False)
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    campaign = client.create_campaign(campaign_spec(audience.id))
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    cid = campaign.id

    poisons = {
        # The repr masking ran out of stack in the main process.
        "deep": publish_raw(broker, "dialer.campaign_command",
                            [[], {"campaign_id": cid, "command": "start",
                                  "x": nested(600)}, embed]),
        "args_dict": publish_raw(broker, "dialer.campaign_command",
                                 [{"campaign_id": cid}, {"command": "start"}, embed]),
        "kwargs_list": publish_raw(broker, "dialer.campaign_command", [[], [cid, "start"], embed]),
        "body_pair": publish_raw(broker, "dialer.call_result", [[], {}]),
        "body_text": publish_raw(broker, "dialer.call_result", "hello"),
        "typo": remote.send_task("dialer.enqueue_campaign", queue=CONTROL,
                                 kwargs={"spec": campaign_spec(None), "contact": []}).id,
        "goal_string": remote.send_task(
            "dialer.call_result", queue="dialer.results",
            kwargs={"call_id": str(uuid.uuid4()), "outcome": "answered",
                    "goal_achieved": "false"}).id,
        "dial_kwargs": remote.send_task("dialer.dial", queue=CONTROL,
                                        kwargs={"call_id": "x", "extra": 1}).id,
        # Longer than a uuid: the applied-command claim must not try to store it.
        "long_campaign_id": remote.send_task(
            "dialer.campaign_command", queue=CONTROL,
            kwargs={"campaign_id": "c" * 80, "command": "pause"}).id,
    }
    huge_id = "x" * 100_000
    remote.send_task("dialer.campaign_command", task_id=huge_id, queue=CONTROL,
                     kwargs={"campaign_id": cid, "command": "start"})
    remote.send_task("dialer.not_a_task", queue=CONTROL, kwargs={})
    # The same worker, after all of that, still carries out a plain command.
    remote.send_task("dialer.campaign_command", queue=CONTROL,
                     kwargs={"campaign_id": cid, "command": "allocate_channels", "channels": 7})
    wait_for(lambda: client.get(cid).campaign.channels == 7, timeout_s=60,
             what="the command sent after the poison was carried out")

    assert worker.poll() is None, "the worker died"
    log = worker.log_path.read_text()
    assert "Unrecoverable error" not in log and "Restoring" not in log
    assert "Retry in" not in log
    found = rejected(database_url)
    for name, task_id in poisons.items():
        assert len(found.get(task_id, [])) == 1, (name, found.get(task_id))
    errors = {name: dict(found[task_id][0][1]) for name, task_id in poisons.items()}
    assert "x" in errors["deep"] or "kwargs" in errors["deep"]
    assert "args" in errors["args_dict"]
    assert "kwargs" in errors["kwargs_list"]
    assert "message" in errors["body_pair"] and "message" in errors["body_text"]
    assert errors["typo"] == {"contact": "unexpected argument"}
    assert "goal_achieved" in errors["goal_string"]
    assert errors["dial_kwargs"] == {"extra": "unexpected argument"}
    assert "request" in errors["long_campaign_id"], errors["long_campaign_id"]
    long_ids = [(rid, recs) for rid, recs in found.items() if rid and rid.startswith("xxxx")]
    assert len(long_ids) == 1 and len(long_ids[0][0]) <= 255
    assert "id" in dict(long_ids[0][1][0][1])
    # None of them was applied: the campaign was never started.
    assert status_of(client, cid) == "draft"
    assert huge_id not in log


def test_a_million_contacts_is_refused_by_the_limit(make_stack, clean_state, database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    worker = stack.start_worker(concurrency=1)
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    spec = campaign_spec(None, external_id="too-big")
    spec.pop("audience_id")
    contact = {"phone": "+12125550100"}
    task_id = remote.send_task("dialer.enqueue_campaign", queue=CONTROL,
                               kwargs={"spec": spec, "contacts": [contact] * 1_000_000}).id
    wait_for(lambda: rejected(database_url).get(task_id), timeout_s=60,
             what="the oversized request recorded")
    (task, errors), = rejected(database_url)[task_id]
    assert task == "dialer.enqueue_campaign"
    field, message = errors[0]
    assert field in ("contacts", "message") and "1000000" in message.replace(",", "")
    assert worker.poll() is None
    assert rows(database_url, "SELECT count(*) FROM campaigns")[0][0] == 0
    assert rows(database_url, "SELECT count(*) FROM contacts")[0][0] == 0


def test_enqueue_without_external_id_is_idempotent_on_the_task_id(make_stack, clean_state,
                                                                  database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    stack.start_worker(concurrency=2)
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    spec = campaign_spec(None)
    spec.pop("audience_id")
    task_id = str(uuid.uuid4())
    # A redelivery carries the same task id: two deliveries, at once.
    for _ in range(3):
        remote.send_task("dialer.enqueue_campaign", task_id=task_id, queue=CONTROL,
                         kwargs={"spec": spec, "contacts": ny_contacts([["answered"]] * 2)})
    marker = remote.send_task("dialer.campaign_command", queue=CONTROL,
                              kwargs={"campaign_id": "nope", "command": "start"}).id
    wait_for(lambda: rejected(database_url).get(marker), timeout_s=60, what="marker processed")
    client = stack.client()
    wait_for(lambda: client.list(), timeout_s=30, what="the campaign")
    # Each delivery has finished before the marker on the same queue with prefetch 1 ...
    # but two processes: wait until nothing is left on the queue either way.
    wait_for(lambda: stack_idle(stack), timeout_s=30, what="queue drained")
    assert len(client.list()) == 1
    assert rows(database_url, "SELECT count(*) FROM audiences")[0][0] == 1


def stack_idle(stack) -> bool:
    import redis

    r = redis.Redis.from_url(stack.env["DIALER_BROKER_URL"])
    try:
        return r.llen(CONTROL) == 0 and r.hlen("unacked") == 0
    finally:
        r.close()


def test_a_redelivered_resume_cannot_restart_a_campaign_paused_since(make_stack, clean_state,
                                                                     database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    # One process: commands are carried out in the order they were sent.
    stack.start_worker(concurrency=1)
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    campaign = client.create_campaign(campaign_spec(audience.id))
    client.start(campaign.id)
    client.pause(campaign.id)
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    resume_id = str(uuid.uuid4())
    remote.send_task("dialer.campaign_command", task_id=resume_id, queue=CONTROL,
                     kwargs={"campaign_id": campaign.id, "command": "resume"})
    wait_for(lambda: status_of(client, campaign.id) == "running", timeout_s=30,
             what="resumed by the remote command")
    client.pause(campaign.id)  # the operator pauses it again
    # An hour later the broker redelivers the same resume (same task id).
    remote.send_task("dialer.campaign_command", task_id=resume_id, queue=CONTROL,
                     kwargs={"campaign_id": campaign.id, "command": "resume"})
    remote.send_task("dialer.campaign_command", queue=CONTROL,
                     kwargs={"campaign_id": campaign.id, "command": "allocate_channels",
                             "channels": 9})
    wait_for(lambda: client.get(campaign.id).campaign.channels == 9, timeout_s=30,
             what="the command after the replay")
    assert status_of(client, campaign.id) == "paused"
    assert [e.action for e in client.events(campaign.id)].count("resumed") == 1
