"""A reservation of a worker killed in the middle of a restore scan still comes back.

kombu's Redis transport gives unacknowledged messages back to the queue once they
are older than the visibility timeout. Each worker scans for them every
``broker_restore_interval_s`` under a Redis lock (``unacked_mutex``), and a worker
SIGKILLed while holding that lock leaves it behind until the lock expires: until
then no worker restores anything. kombu's default expiry is five minutes, longer
than the deadline of a short call, so a result reserved by the dead worker came
back after its call had been closed as failed and the contact dialed again (seen
in tests/chaos/test_results_never_lost.py on a loaded CI machine).
"""

from __future__ import annotations

import time
import uuid

from kombu import Connection, Exchange, Queue

from dialer.settings import Settings
from workers.app import _broker_transport_options


def test_a_scan_lock_left_by_a_killed_worker_holds_restores_back_for_seconds_only(
        redis_url: str) -> None:
    broker_url = redis_url
    call_id = str(uuid.uuid4())
    settings = Settings(broker_url=broker_url, broker_visibility_timeout_s=1.0,
                        broker_restore_interval_s=1.0)
    options = _broker_transport_options(settings)
    queue = Queue("restore-mutex-test", Exchange("restore-mutex-test"), "restore-mutex-test")
    with Connection(broker_url, transport_options=options) as dead, \
            Connection(broker_url, transport_options=options) as alive:
        channel = dead.default_channel
        channel.client.delete(channel.unacked_key, channel.unacked_index_key,
                              channel.unacked_mutex_key)
        queue(channel).declare()
        queue(channel).purge()
        dead.Producer().publish({"call_id": call_id}, exchange=queue.exchange,
                                routing_key="restore-mutex-test")
        reserved = queue(channel).get(no_ack=False)  # reserved, never acknowledged
        assert reserved is not None
        # The worker dies inside a scan (kombu's Mutex takes this lock): it stays, with
        # the expiry it was taken with.
        left_behind = channel.client.lock(channel.unacked_mutex_key,
                                          timeout=channel.unacked_mutex_expire)
        assert left_behind.acquire(blocking=False)

        survivor = alive.default_channel
        came_back = None
        give_up = time.monotonic() + 15  # the visibility timeout and a few scans
        while came_back is None and time.monotonic() < give_up:
            survivor.qos.restore_visible(num=10, interval=1)
            came_back = queue(survivor).get(no_ack=True)
            if came_back is None:
                time.sleep(0.2)  # polling the broker, not a timing assertion
        survivor.client.delete(survivor.unacked_mutex_key)
        queue(survivor).delete()

    assert came_back is not None and came_back.payload == {"call_id": call_id}, (
        "a reservation stayed hidden behind a dead worker's restore lock")
