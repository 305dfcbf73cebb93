"""Garbage written straight into the broker cannot stop or restart a worker.

Anyone who can write to the broker can bypass Celery and kombu altogether:
``redis-cli LPUSH dialer.results 'not json'``, or a raw AMQP ``basic_publish``
with no content type. On Redis such an item used to stop the worker that
popped it (or restart its consumer) inside kombu's transport, before Celery
saw a message (docs/remote-control.md, "Malformed messages"). Each test sends
every kind of garbage to every queue of a real worker subprocess and then a
normal command from a foreign Celery app: the same worker process carries it
out, and on Redis it logged one WARNING per item, without the item.
"""

from __future__ import annotations

import base64
import json

import amqp
import pytest
import redis
from celery import Celery

from tests.support.broker import DIALER_QUEUES, amqp_test_url, is_amqp, message_counts, reset_amqp
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

SECRET = "+14155550123"  # a number inside the garbage: it must not reach the log
_ENVELOPE_PROPS = {"delivery_tag": "t", "body_encoding": "base64", "priority": 0,
                   "delivery_info": {"exchange": "", "routing_key": "dialer.results"}}


def _envelope(**fields: object) -> bytes:
    return json.dumps(fields).encode()


# What each one did to a worker before the guard (kombu 5.7, Celery 5.7), found
# by experiment: "exit" = Unrecoverable error, the worker process exits 1;
# "reconnect" = the consumer restarts ("Connection to broker lost", KeyError).
REDIS_GARBAGE: dict[str, bytes] = {
    "not_json": f"not json {SECRET}".encode(),                       # exit
    "not_utf8": b"\xff\xfe" + SECRET.encode(),                      # exit
    "empty_list": b"[]",                                            # exit
    "number": b"123",                                               # exit
    "empty_object": b"{}",                                          # reconnect
    "no_properties": _envelope(body=base64.b64encode(SECRET.encode()).decode()),  # reconnect
    "properties_not_object": _envelope(properties=5, body="e30="),  # exit
    "no_delivery_tag": _envelope(properties={"body_encoding": "base64"}, body="e30="),  # reconnect
    "no_delivery_info": _envelope(properties={"delivery_tag": "a", "body_encoding": "base64"},
                                  body="e30="),                     # reconnect
    # 13 base64 characters: "Incorrect padding".
    "body_not_base64": _envelope(properties=_ENVELOPE_PROPS, body=f"x{SECRET}", headers={},
                                 **{"content-type": "application/json"}),  # exit
    "unknown_body_encoding": _envelope(properties={**_ENVELOPE_PROPS, "body_encoding": "rot13"},
                                       body=SECRET, headers={}),  # exit
}


def _log(worker) -> str:
    return worker.log_path.read_text()


def _send_command_and_wait(stack, channels: int) -> str:
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    campaign = client.create_campaign(campaign_spec(audience.id))
    remote = Celery(broker=stack.env["DIALER_BROKER_URL"], set_as_current=False)
    remote.send_task("dialer.campaign_command", queue="dialer.control",
                     kwargs={"campaign_id": campaign.id, "command": "allocate_channels",
                             "channels": channels})
    wait_for(lambda: client.get(campaign.id).campaign.channels == channels, timeout_s=60,
             what="the command sent after the garbage was carried out")
    return campaign.id


def test_garbage_pushed_into_redis_queues_is_dropped_and_the_worker_lives_on(make_stack):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    broker_url = stack.env["DIALER_BROKER_URL"]
    if is_amqp(broker_url):
        pytest.skip("raw Redis list items: the Redis broker only")
    worker = stack.start_worker(concurrency=1)
    pid = worker.pid
    broker = redis.Redis.from_url(broker_url)
    try:
        for queue in DIALER_QUEUES:
            for item in REDIS_GARBAGE.values():
                broker.lpush(queue, item)
        _send_command_and_wait(stack, channels=7)
        expected = len(DIALER_QUEUES) * len(REDIS_GARBAGE)
        wait_for(lambda: _log(worker).count("not a kombu message") >= expected, timeout_s=30,
                 what=f"{expected} warnings for the garbage items")
        assert all(broker.llen(queue) == 0 for queue in DIALER_QUEUES)
    finally:
        broker.close()
    assert worker.poll() is None and worker.pid == pid, "the worker exited"
    log = _log(worker)
    warnings = [line for line in log.splitlines() if "not a kombu message" in line]
    assert len(warnings) == expected, warnings
    assert all("WARNING/MainProcess" in line for line in warnings)
    for queue in DIALER_QUEUES:
        assert sum(f"queue {queue}:" in line for line in warnings) == len(REDIS_GARBAGE)
    assert "Unrecoverable error" not in log
    assert "Connection to broker lost" not in log
    assert SECRET not in log and "4155550123" not in log


RAW_AMQP: dict[str, tuple[bytes, dict[str, object]]] = {
    "not_json": (f"not json {SECRET}".encode(), {}),
    "not_utf8": (b"\xff\xfe", {}),
    "empty_list": (b"[]", {}),
    "number": (b"123", {}),
    "empty_object": (b"{}", {}),
    "json_type_bad_body": (b"not json", {"content_type": "application/json",
                                         "content_encoding": "utf-8"}),
    "type_not_accepted": (b"[[], {}, {}]", {"content_type": "application/x-evil",
                                            "content_encoding": "utf-8"}),
    "unknown_encoding": (b"[[], {}, {}]", {"content_type": "application/json",
                                          "content_encoding": "nope-42"}),
}


def test_garbage_published_raw_to_rabbitmq_is_dropped_and_the_worker_lives_on(make_stack,
                                                                               monkeypatch):
    url = amqp_test_url()
    monkeypatch.setenv("DIALER_TEST_BROKER_URL", url)
    try:
        reset_amqp(url)
    except OSError as exc:
        pytest.skip(f"RabbitMQ not reachable at {url}: {exc}")
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60)
    assert stack.env["DIALER_BROKER_URL"] == url
    worker = stack.start_worker(concurrency=1)
    pid = worker.pid
    parts = amqp_url_parts(url)
    with amqp.Connection(**parts) as conn:
        channel = conn.channel()
        for queue in DIALER_QUEUES:
            for body, properties in RAW_AMQP.values():
                channel.basic_publish(amqp.Message(body, **properties), exchange="",
                                      routing_key=queue)
    _send_command_and_wait(stack, channels=5)
    # Celery refuses each of them itself ("unknown message" or "Can't decode"):
    # nothing of ours runs before Celery on RabbitMQ, no guard is needed.
    wait_for(lambda: not any(message_counts(url).values()), timeout_s=30,
             what="the garbage consumed")
    assert worker.poll() is None and worker.pid == pid, "the worker exited"
    log = _log(worker)
    assert "Unrecoverable error" not in log
    assert "Connection to broker lost" not in log


def amqp_url_parts(url: str) -> dict[str, str]:
    from kombu.utils.url import url_to_parts

    _scheme, host, port, user, password, vhost, _ = url_to_parts(url)
    return {"host": f"{host}:{port or 5672}", "userid": user or "guest",
            "password": password or "guest", "virtual_host": vhost or "/"}
