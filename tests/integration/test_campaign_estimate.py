"""``DialerClient.estimate``: the forecast of a spec not yet saved (the console's form),
on the real PostgreSQL, from the chosen audience's contacts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.client import DialerClient
from dialer.errors import NotFound, ValidationError
from dialer.service import orgs
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def test_an_unsaved_spec_is_forecast_for_its_audiences_contacts(client):
    audience = client.create_audience("people", ny_contacts([["answered"]] * 300))
    slow = client.estimate(campaign_spec(audience.id, pacing={"channels": 1}))
    fast = client.estimate(campaign_spec(audience.id, pacing={"channels": 10}))
    assert 0 < slow.calls_per_hour < fast.calls_per_hour
    assert slow.eta is not None and fast.eta is not None
    assert MONDAY_9AM_NY < fast.eta < slow.eta
    # Nothing was saved: the estimate is not a campaign.
    assert client.list() == []


def test_an_estimate_starts_when_the_campaign_would(client):
    audience = client.create_audience("people", ny_contacts([["answered"]] * 5))
    later = MONDAY_9AM_NY + timedelta(days=2)
    forecast = client.estimate(campaign_spec(audience.id, scheduled_at=later.isoformat()))
    assert forecast.eta is not None and forecast.eta >= later


def test_a_removed_contact_is_not_counted(client):
    audience = client.create_audience("people", ny_contacts([["answered"]] * 200))
    before = client.estimate(campaign_spec(audience.id, pacing={"channels": 1}))
    members = client.audience_members(audience.id, limit=150).members
    client.remove_audience_members(audience.id, [m.id for m in members])
    after = client.estimate(campaign_spec(audience.id, pacing={"channels": 1}))
    assert before.eta is not None and after.eta is not None and after.eta < before.eta


def test_an_invalid_spec_names_every_field_as_a_creation_does(client):
    with pytest.raises(ValidationError) as refused:
        client.estimate({"name": "", "pacing": {"channels": -1},
                         "schedule": {"call_window": {"start": "18:00", "end": "09:00"}}})
    assert set(refused.value.fields) == {"name", "pacing.channels", "schedule.call_window",
                                         "audience_id"}


def test_another_organisations_audience_is_unknown(client, database_url, redis_url):
    orgs.create_org(client.runtime, "acme")
    with DialerClient(database_url=database_url, redis_url=redis_url, org="acme") as acme:
        theirs = acme.create_audience("theirs", ny_contacts([["answered"]]))
    with pytest.raises(ValidationError) as refused:
        client.estimate(campaign_spec(theirs.id))
    assert refused.value.fields == ["audience_id"]


def test_an_estimate_says_its_horizon_and_why_no_call_would_be_placed(client):
    audience = client.create_audience("people", ny_contacts([["answered"]] * 5))
    idle = client.estimate(campaign_spec(audience.id, pacing={"channels": 0}))
    assert idle.calls_per_hour == 0 and idle.eta is None
    assert idle.horizon_days == 120
    assert idle.no_calls_reason == "the pacing has no channels"
    busy = client.estimate(campaign_spec(audience.id, pacing={"channels": 2}))
    assert busy.no_calls_reason is None and busy.horizon_days == 120


def test_an_edit_is_estimated_for_the_campaigns_open_participants(client):
    audience = client.create_audience("people", ny_contacts([["answered"]] * 200))
    campaign = client.create_campaign(campaign_spec(audience.id, pacing={"channels": 1}))
    members = client.audience_members(audience.id, limit=150).members
    client.remove_audience_members(audience.id, [m.id for m in members])
    # The audience has 50 contacts now; the campaign still has its 200 participants.
    for_audience = client.estimate(campaign.spec)
    for_campaign = client.estimate(campaign.spec, campaign_id=campaign.id)
    assert for_audience.eta is not None and for_campaign.eta is not None
    assert for_campaign.eta > for_audience.eta
    forecast = client.forecast(campaign.id)
    assert forecast.eta is not None
    assert abs((forecast.eta - for_campaign.eta).total_seconds()) <= 120


def test_another_organisations_campaign_is_not_estimated(client, database_url, redis_url):
    orgs.create_org(client.runtime, "acme")
    with DialerClient(database_url=database_url, redis_url=redis_url, org="acme") as acme:
        audience = acme.create_audience("theirs", ny_contacts([["answered"]]))
        theirs = acme.create_campaign(campaign_spec(audience.id))
    mine = client.create_audience("mine", ny_contacts([["answered"]]))
    for unknown in (theirs.id, "not-a-campaign"):
        with pytest.raises(NotFound):
            client.estimate(campaign_spec(mine.id), campaign_id=unknown)
