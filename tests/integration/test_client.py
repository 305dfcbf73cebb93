"""The Python client against the real PostgreSQL: validation, errors, nothing half-written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dialer.errors import InvalidTransition, NotFound, ValidationError
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def count(database_url: str, table: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return value


def test_invalid_spec_names_every_field_and_writes_nothing(client, database_url):
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    bad = campaign_spec(audience.id, name="", retry={"max_retries": 42},
                        call_handling={"ring_timeout_s": 500},
                        phone_number_ids=["00000000-0000-0000-0000-000000000000"])
    with pytest.raises(ValidationError) as info:
        client.create_campaign(bad)
    assert {"name", "retry.max_retries", "call_handling.ring_timeout_s"} <= set(info.value.fields)
    # Reference checks happen only once the spec itself is valid; then they name the field.
    with pytest.raises(ValidationError) as info:
        client.create_campaign(campaign_spec(
            audience.id, phone_number_ids=["00000000-0000-0000-0000-000000000000"]))
    assert info.value.fields == ["phone_number_ids[0]"]
    with pytest.raises(ValidationError) as info:
        client.create_campaign(campaign_spec("not-an-audience"))
    assert info.value.fields == ["audience_id"]
    assert count(database_url, "campaigns") == 0
    assert count(database_url, "participants") == 0
    assert count(database_url, "events") == 0


def test_audience_keeps_good_rows_and_reports_bad_and_duplicates(client):
    audience = client.create_audience("mixed", [
        {"phone": "+1 212 555 0001", "name": "ok"},
        {"phone": "12345"},
        {"phone": "(212) 555-0001"},
        {"name": "no phone"},
        {"phone": "+12125550002", "timezone": "Not/AZone"},
        {"phone": "+12125550003", "timezone": "America/Chicago", "attributes": {"k": "v"}},
    ])
    assert audience.count == 2
    assert [(r.index, r.error.split(":")[0]) for r in audience.rejected] == [
        (1, "phone"), (2, "duplicate phone in this audience"), (3, "phone"), (4, "timezone")]


def test_csv_import_reports_rows_and_keeps_the_good_ones(client, tmp_path):
    audience = client.create_audience("csv")
    path = tmp_path / "contacts.csv"
    path.write_text("phone,name,timezone,plan\n"
                    "+12125550101,Ann,,gold\n"
                    "garbage,Bob,,silver\n"
                    "+12125550101,Ann again,,gold\n"
                    "+12125550102,Cy,America/Denver,\n")
    report = client.import_contacts(audience.id, path)
    assert report.imported == 2
    assert [(r.row, r.error) for r in report.rejected][1] == (4, "duplicate phone in this audience")
    assert report.rejected[0].row == 3
    campaign = client.create_campaign(campaign_spec(audience.id))
    assert client.get(campaign.id).metrics.total_participants == 2


def test_csv_without_phone_column_imports_nothing(client, tmp_path, database_url):
    audience = client.create_audience("csv")
    path = tmp_path / "bad.csv"
    path.write_text("number,name\n+12125550101,Ann\n")
    with pytest.raises(ValidationError, match="phone"):
        client.import_contacts(audience.id, path)
    assert count(database_url, "contacts") == 0


def test_unknown_ids_raise_not_found(client):
    for call in (client.get, client.start, client.participants, client.events, client.calls):
        with pytest.raises(NotFound):
            call("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        client.get("not-a-uuid")


def test_lifecycle_rules_and_events(client):
    audience = client.create_audience("a", ny_contacts([["answered"]] * 2))
    campaign = client.create_campaign(campaign_spec(audience.id))
    assert campaign.status == "draft"
    with pytest.raises(InvalidTransition):
        client.pause(campaign.id)
    with pytest.raises(InvalidTransition):
        client.resume(campaign.id)
    assert client.start(campaign.id).status == "running"
    with pytest.raises(InvalidTransition):
        client.delete(campaign.id)
    assert client.pause(campaign.id).pause_reason == "manual"
    client.delete(campaign.id)
    with pytest.raises(NotFound):
        client.get(campaign.id)


def test_allocate_channels_is_capped_by_the_organisation(client):
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    campaign = client.create_campaign(campaign_spec(audience.id))
    view = client.allocate_channels(campaign.id, 10_000)
    assert view.channels == client.settings.org_channel_cap
    with pytest.raises(ValidationError, match="channels"):
        client.allocate_channels(campaign.id, -1)
    [event] = [e for e in client.events(campaign.id) if e.action == "channels_allocated"]
    assert "capped" in event.detail and event.source == "api"


def test_list_is_newest_first_and_filters_by_status(client):
    audience = client.create_audience("a", ny_contacts([["answered"]]))
    first = client.create_campaign(campaign_spec(audience.id, name="first"))
    second = client.create_campaign(campaign_spec(audience.id, name="second"))
    client.start(second.id)
    assert [c.id for c in client.list()] == [second.id, first.id]
    assert [c.id for c in client.list(status="running")] == [second.id]
    with pytest.raises(ValidationError, match="sort"):
        client.list(sort="bogus")


def test_phone_numbers_and_dnc_normalise_to_e164(client):
    number = client.add_phone_number("(415) 555-0100")
    assert number.number == "+14155550100" and number.is_active
    assert [n.id for n in client.phone_numbers()] == [number.id]
    with pytest.raises(ValidationError, match="number"):
        client.add_phone_number("nope")
    assert client.add_dnc(["+1 212 555 0001", "212-555-0002"]) == 2
    assert client.dnc() == ["+12125550001", "+12125550002"]
    with pytest.raises(ValidationError, match=r"numbers\[1\]"):
        client.add_dnc(["+12125550003", "bad"])
    assert "+12125550003" not in client.dnc()
    assert client.remove_dnc("+12125550001") == 1
