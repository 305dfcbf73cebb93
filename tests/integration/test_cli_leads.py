"""``dialer audience add|remove|members`` and ``dialer campaign add-contacts|requeue|
close-lead`` as a person types them, against the real PostgreSQL and Redis."""

from __future__ import annotations

import pytest

from tests.support.cli import run
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

OPEN_WINDOW = "2026-03-02T10:00:00-05:00"


@pytest.fixture
def env(cli_environment):
    return cli_environment(OPEN_WINDOW)


def test_leads_from_the_command_line(env, tmp_path):
    audience = env.create_audience("people", ny_contacts([["answered"]] * 2))
    campaign = env.create_campaign(campaign_spec(audience.id))
    env.start(campaign.id)
    source = tmp_path / "more.csv"
    source.write_text("phone,name\n+12125550050,new one\n+12125550000,dup\n")

    code, out, _ = run("audience", "add", audience.id, "--csv", str(source))
    assert code == 0, out
    assert "1 contacts added, 1 rows rejected" in out
    other = tmp_path / "other.csv"
    other.write_text("phone\n+12125550051\n")
    code, out, _ = run("campaign", "add-contacts", campaign.id[:8], "--csv", str(other))
    assert code == 0 and "1 contacts added" in out, out
    assert len(env.participants(campaign.id)) == 4

    code, out, _ = run("audience", "members", audience.id, "--limit", "3", "--full")
    assert code == 0 and "+12125550050" in out and "4 contacts" in out
    code, out, _ = run("audience", "members", audience.id, "--search", "new one", "--json")
    assert code == 0 and '"total": 1' in out
    assert "+12125550050" not in out  # masked unless --full, as the tables
    code, out, _ = run("audience", "members", audience.id, "--search", "new one", "--json",
                       "--full")
    assert code == 0 and "+12125550050" in out

    ids = sorted(p.contact_id for p in env.participants(campaign.id))
    code, out, _ = run("campaign", "close-lead", campaign.id, str(ids[0]), str(ids[1]))
    assert code == 0 and "2 contacts closed" in out
    code, out, _ = run("campaign", "requeue", campaign.id, str(ids[0]))
    assert code == 0 and "1 contacts requeued" in out
    code, out, _ = run("audience", "remove", audience.id, str(ids[3]))
    assert code == 0 and "1 contacts removed" in out
    events = {e.action: e.source for e in env.events(campaign.id)}
    assert {events[a] for a in ("contacts_added", "closed", "requeued",
                                "contacts_removed")} == {"manual"}

    code, _, err = run("campaign", "requeue", campaign.id, "999999")
    assert code == 2 and err.startswith("error: contact_ids:"), err
    env.stop(campaign.id)
    code, _, err = run("campaign", "add-contacts", campaign.id, "--csv", str(other))
    assert code != 0 and "stopped" in err and "Traceback" not in err
