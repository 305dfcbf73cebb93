"""Issue #16 item 2: every error of a request at once, and one wording for a bad number.

A spec with a bad shape (``name: ""``) and bad references (an audience and a
caller ID that do not exist) is refused with all three fields named in one
``ValidationError``, whichever way it arrives: the client, the CLI, a remote
``dialer.enqueue_campaign``. An invalid phone number reads the same on every
path that takes one.
"""

from __future__ import annotations

import json
import uuid

import pytest

from dialer.errors import ValidationError
from dialer.phones import INVALID_PHONE
from dialer.service.remote import enqueue_campaign
from tests.support.cli import run

pytestmark = pytest.mark.integration

OPEN_WINDOW = "2026-03-02T10:00:00-05:00"
UNKNOWN_AUDIENCE = str(uuid.UUID(int=1))
UNKNOWN_NUMBER = str(uuid.UUID(int=2))
BAD_SPEC = {"name": "", "audience_id": UNKNOWN_AUDIENCE, "phone_number_ids": [UNKNOWN_NUMBER]}
EXPECTED_FIELDS = {"name", "audience_id", "phone_number_ids[0]"}


@pytest.fixture
def env(cli_environment):
    return cli_environment(OPEN_WINDOW)


def test_client_names_shape_and_reference_errors_together(env):
    with pytest.raises(ValidationError) as caught:
        env.create_campaign(BAD_SPEC)
    assert {field for field, _ in caught.value.errors} == EXPECTED_FIELDS


def test_cli_names_shape_and_reference_errors_together(env, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(BAD_SPEC))
    code, _, err = run("campaign", "create", "-f", str(spec))
    assert code == 2
    for field in EXPECTED_FIELDS:
        assert f"{field}:" in err, err


def test_remote_enqueue_records_shape_and_reference_errors_together(env):
    result = enqueue_campaign(env.runtime, dict(BAD_SPEC), contacts=None, start=False)
    assert result["ok"] is False
    [row] = env.rejected_requests()
    assert {field for field, _ in row.errors} == EXPECTED_FIELDS


# "abc" fails phonenumbers' parse; "+15550100" parses and is not a valid number.
@pytest.mark.parametrize("bad", ["abc", "+15550100"])
def test_an_invalid_phone_number_reads_the_same_on_every_path(env, tmp_path, bad):
    messages: dict[str, str] = {}
    with pytest.raises(ValidationError) as caught:
        env.add_phone_number(bad)
    messages["phone add"] = dict(caught.value.errors)["number"]
    with pytest.raises(ValidationError) as caught:
        env.add_dnc([bad])
    messages["dnc add"] = dict(caught.value.errors)["numbers[0]"]
    audience = env.create_audience("rows", [{"phone": bad}, {"phone": "+12125550123"}])
    messages["create_audience"] = audience.rejected[0].error.removeprefix("phone: ")
    csv = tmp_path / "contacts.csv"
    csv.write_text(f"phone\n{bad}\n+12125550124\n")
    imported = env.import_contacts(audience.id, csv)
    messages["csv import"] = imported.rejected[0].error.removeprefix("phone: ")
    number = env.add_phone_number("+12125550100")
    result = enqueue_campaign(
        env.runtime, {"name": "inline", "phone_number_ids": [number.id]},
        contacts=[{"phone": bad}, {"phone": "+12125550125"}], start=False)
    assert result["ok"] is True
    inline = [row for row in env.rejected_requests() if row.task == "dialer.enqueue_campaign"]
    messages["enqueue_campaign contacts"] = dict(
        (f, m) for f, m in inline[0].errors)["contacts[0]"].removeprefix("phone: ")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "c", "audience_id": audience.id}))
    code, _, err = run("campaign", "create", "-f", str(spec), "--caller-id", bad)
    assert code == 2, err
    messages["spec caller ID"] = err.split("caller_id: ", 1)[1].strip()
    assert set(messages.values()) == {INVALID_PHONE}, messages


def test_create_resolves_audience_by_name_and_caller_id_by_number(env, tmp_path):
    audience = env.create_audience("March", [{"phone": "+12125550123"}])
    number = env.add_phone_number("+12125550100")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "c", "audience_id": UNKNOWN_AUDIENCE}))
    code, out, err = run("campaign", "create", "-f", str(spec), "--audience", "March",
                         "--caller-id", "(212) 555-0100", "-q")
    assert code == 0, err
    campaign = env.get(out.strip())["campaign"]
    assert campaign.audience_id == audience.id and campaign.phone_number_ids == [number.id]
    # Ambiguous names and unknown numbers are refused, with the spec's own errors.
    env.create_audience("March", [{"phone": "+12125550124"}])
    spec.write_text(json.dumps({"name": ""}))
    code, _, err = run("campaign", "create", "-f", str(spec), "--audience", "March",
                       "--caller-id", "+12125550155")
    assert code == 2
    assert "name:" in err and "audience: 2 audiences are named 'March'" in err
    assert "caller_id: +12125550155 is not a registered caller ID" in err
    assert len(env.list()) == 1
