"""The exporter's snapshot stays bounded: ended campaigns drop out after a day."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.client import DialerClient
from dialer.service.metrics_export import ENDED_CAMPAIGNS_SHOWN, families, take_snapshot
from tests.support.in_process import in_process_runtime
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

MONDAY_10AM = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def campaign_labels(rt) -> set[str]:
    snapshot = take_snapshot(rt)
    labelled = {sample.labels["campaign"] for family in families(snapshot)
                for sample in family.samples if "campaign" in sample.labels}
    assert labelled == {c.id for c in snapshot.campaigns}  # no series for anyone else
    return labelled


def test_an_ended_campaign_leaves_the_series_a_day_after_it_ended(clean_state, database_url,
                                                                  redis_url):
    origin = f"{MONDAY_10AM.isoformat()}@{time.time():.6f}"
    with DialerClient(database_url=database_url, redis_url=redis_url,
                      time_origin=origin) as client:
        audience = client.create_audience("a", ny_contacts([["answered"]] * 2))
        stopped = client.create_campaign(campaign_spec(audience.id, name="old")).id
        client.start(stopped)
        client.stop(stopped)
        draft = client.create_campaign(campaign_spec(audience.id, name="next")).id

    later = MONDAY_10AM + ENDED_CAMPAIGNS_SHOWN + timedelta(minutes=5)
    today = in_process_runtime(database_url, redis_url, origin)
    tomorrow = in_process_runtime(database_url, redis_url, f"{later.isoformat()}@{time.time()}")
    try:
        assert campaign_labels(today) == {stopped, draft}
        assert campaign_labels(tomorrow) == {draft}
    finally:
        today.close()
        tomorrow.close()
