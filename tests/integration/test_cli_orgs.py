"""``dialer org ...``, ``dialer apikey ...`` and ``--org`` on every other command."""

from __future__ import annotations

import pytest

from dialer.service import orgs
from tests.support.cli import run
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


def test_an_organisation_and_its_key_from_the_command_line(cli_environment):
    client = cli_environment("2026-03-02T09:00:00-05:00")
    code, out, err = run("org", "create", "acme", "--channel-cap", "7")
    assert code == 0, err
    assert "acme" in out and "webhook secret: " in out
    code, out, _ = run("org", "list")
    assert "acme" in out and "7" in out and "default" in out

    code, out, err = run("apikey", "create", "--org", "acme", "--label", "ci")
    assert code == 0, err
    key = out.strip().splitlines()[-1]  # the contract: the key is the last line
    assert key.startswith("dk_")
    org = orgs.authenticate(client.runtime, key)
    assert org is not None and (org.name, org.channel_cap) == ("acme", 7)

    code, out, _ = run("apikey", "list", "--org", "acme")
    assert key[:11] in out and key not in out and "ci" in out
    # Nothing but the hash is stored: the key is in no column of any row.
    with client.runtime.unit_of_work() as session:
        from sqlalchemy import text
        rows = session.execute(text("SELECT * FROM api_keys")).all()
    assert rows and not any(key in str(value) for row in rows for value in row)

    code, out, err = run("apikey", "revoke", key[:11])
    assert code == 0, err
    assert orgs.authenticate(client.runtime, key) is None


def test_a_wrong_or_malformed_key_is_refused_alike(cli_environment):
    client = cli_environment("2026-03-02T09:00:00-05:00")
    _, key = orgs.create_api_key(client.runtime, "default")
    for presented in (key[:-1] + ("A" if key[-1] != "A" else "B"), "dk_00000000_" + "x" * 43,
                      "", "Bearer " + key, key + " "):
        assert orgs.authenticate(client.runtime, presented) is None
    assert orgs.authenticate(client.runtime, key) is not None


def test_every_command_takes_org(cli_environment):
    client = cli_environment("2026-03-02T09:00:00-05:00")
    run("org", "create", "acme")
    audience = client.create_audience("mine", ny_contacts([["answered"]]))
    campaign = client.create_campaign(campaign_spec(audience.id, name="default's"))

    code, out, _ = run("campaign", "list", "--org", "acme")
    assert code == 0 and "default's" not in out
    code, out, _ = run("--org", "acme", "campaign", "list")
    assert code == 0 and "default's" not in out
    code, out, _ = run("campaign", "list")
    assert "default's" in out
    code, _, err = run("campaign", "show", campaign.id, "--org=acme")
    assert code == 2 and "not found" in err
    code, _, err = run("campaign", "list", "--org", "nobody")
    assert code == 2 and "nobody" in err
    code, _, err = run("org", "create", "acme")
    assert code == 2 and "exists" in err
    code, _, err = run("org", "create", "bad name!")
    assert code == 2 and "name" in err


def test_apikey_keeps_its_own_org_wherever_the_root_option_is(cli_environment):
    cli_environment("2026-03-02T09:00:00-05:00")
    run("org", "create", "acme")
    code, out, err = run("--org", "acme", "apikey", "create", "--org", "acme")
    assert code == 0, err
    code, out, _ = run("--org", "acme", "apikey", "list", "--org", "default")
    assert code == 0 and "acme" not in out
