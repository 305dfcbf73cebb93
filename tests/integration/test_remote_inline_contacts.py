"""Inline contacts sent with ``dialer.enqueue_campaign``: bad rows are reported, never lost."""

from __future__ import annotations

import pytest

from dialer.service.remote import REJECTED_CONTACTS_LISTED, enqueue_campaign
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


@pytest.fixture
def client(cli_environment):
    return cli_environment("2026-03-02T10:00:00-05:00")


def inline_spec(external_id: str) -> dict:
    spec = campaign_spec(None, external_id=external_id)
    spec.pop("audience_id")
    return spec


def test_invalid_inline_contacts_are_listed_and_the_valid_ones_dialed(client):
    contacts = ny_contacts([["answered"]] * 3)
    contacts.insert(1, {"phone": "not a number"})
    contacts.append({"phone": "+12125550001", "name": 7})

    result = enqueue_campaign(client.runtime, inline_spec("crm-7"), contacts=contacts,
                              start=False)

    assert result["ok"] and result["created"]
    assert (result["contacts_accepted"], result["contacts_rejected"]) == (3, 2)
    assert len(client.participants(result["campaign_id"])) == 3
    [record] = client.rejected_requests()
    assert record.task == "dialer.enqueue_campaign" and record.external_id == "crm-7"
    assert [field for field, _ in record.errors] == ["contacts[1]", "contacts[4]"]
    assert record.payload["campaign_id"] == result["campaign_id"]
    assert "5550001" not in str(record.errors)  # the reasons, not the numbers


def test_a_request_whose_contacts_are_all_invalid_creates_nothing(client):
    contacts = [{"phone": f"bad-{index}"} for index in range(REJECTED_CONTACTS_LISTED + 5)]

    result = enqueue_campaign(client.runtime, inline_spec("crm-8"), contacts=contacts,
                              start=True)

    assert result["ok"] is False and "contacts" in result["detail"]
    assert client.list() == [] and client.audiences() == []
    [record] = client.rejected_requests()
    assert [field for field, _ in record.errors] == ["contacts"]
