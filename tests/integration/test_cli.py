"""Every ``dialer`` command through Typer's runner, against the real PostgreSQL and Redis.

The runner calls the same ``app`` the console script runs; settings come from
the environment exactly as for a person at a terminal.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dialer.cli import app
from dialer.service.remote import enqueue_campaign
from tests.support.cli import run
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration

# Monday 2 March 2026, 10:00 in New York: a weekday, inside the 09:00-18:00 window.
OPEN_WINDOW = "2026-03-02T10:00:00-05:00"


@pytest.fixture
def env(cli_environment):
    return cli_environment(OPEN_WINDOW)


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def count_rows(database_url: str, table: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        n = conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return int(n or 0)


def test_phone_add_normalises_lists_and_disables(env):
    code, out, _ = run("phone", "add", "(415) 555-0134", "--cps", "1")
    assert code == 0 and "+14155550134" in out
    [number] = env.phone_numbers()
    code, out, _ = run("phone", "list", "--wide")  # whole ids; the default shows 8 characters
    assert code == 0 and number.id in out and "+14155550134" in out
    assert run("phone", "disable", number.id)[0] == 0
    assert env.phone_numbers()[0].is_active is False
    assert run("phone", "enable", number.id)[0] == 0
    assert env.phone_numbers()[0].is_active is True


def test_a_bad_phone_number_is_one_line_naming_the_field(env):
    code, _, err = run("phone", "add", "12")
    assert code == 2
    assert one_line_error(err).startswith("error: number:")
    assert env.phone_numbers() == []


def test_audience_from_csv_keeps_good_rows_and_reports_rejected_ones(env, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("phone,name,plan\n+12125550101,Ann,gold\n2125550102,Bob,\n"
                      "not-a-number,Cy,\n+12125550101,Ann again,\n")
    report = tmp_path / "rejected.csv"
    code, out, _ = run("audience", "create", "march", "--csv", str(source),
                       "--rejected-out", str(report))
    assert code == 0, out
    assert "2 contacts imported, 2 rows rejected" in out
    [audience] = env.audiences()
    assert (audience.name, audience.count) == ("march", 2)
    lines = report.read_text().splitlines()
    assert lines[0] == "row,error,phone,name,plan"  # then the row as it was in the file
    assert [line.split(",")[0] for line in lines[1:]] == ["4", "5"]
    assert "duplicate phone" in lines[2]
    code, out, _ = run("audience", "list", "--wide")
    assert code == 0 and audience.id in out


def test_an_unreadable_csv_leaves_no_audience_behind(env, tmp_path, database_url):
    source = tmp_path / "no-phone.csv"
    source.write_text("name\nAnn\n")
    code, _, err = run("audience", "create", "broken", "--csv", str(source))
    assert code == 2 and "phone" in one_line_error(err)
    code, _, err = run("audience", "create", "missing", "--csv", str(tmp_path / "nope.csv"))
    assert code == 2 and "--csv" in one_line_error(err)
    assert count_rows(database_url, "audiences") == 0


def test_campaign_create_from_yaml_and_json(env, tmp_path):
    import yaml

    audience = env.create_audience("a", ny_contacts([["answered"]] * 3))
    spec = campaign_spec(audience.id)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "spec.json").write_text(json.dumps({**spec, "name": "from json"}))
    code, out, _ = run("campaign", "create", "-f", str(tmp_path / "spec.yaml"))
    assert code == 0 and "draft" in out, out
    code, out, _ = run("campaign", "create", "--file", str(tmp_path / "spec.json"), "--start")
    assert code == 0 and "running" in out, out
    by_name = {c.name: c.status for c in env.list()}
    assert by_name == {"test campaign": "draft", "from json": "running"}


def test_a_bad_spec_names_every_field_and_writes_nothing(env, tmp_path, database_url):
    (tmp_path / "bad.yaml").write_text(
        'name: ""\ntimezone: Mars/Olympus\nretry: {max_retries: 99}\n')
    code, _, err = run("campaign", "create", "-f", str(tmp_path / "bad.yaml"))
    assert code == 2
    line = one_line_error(err)
    for field in ("name", "timezone", "retry.max_retries"):
        assert field in line
    (tmp_path / "broken.yaml").write_text("name: [\n")
    code, _, err = run("campaign", "create", "-f", str(tmp_path / "broken.yaml"))
    assert code == 2 and "invalid YAML at line" in one_line_error(err)
    (tmp_path / "list.json").write_text("[1, 2]")
    code, _, err = run("campaign", "create", "-f", str(tmp_path / "list.json"))
    assert code == 2 and "mapping" in one_line_error(err)
    assert count_rows(database_url, "campaigns") == 0


def test_lifecycle_commands_record_manual_events_and_refuse_bad_transitions(env):
    audience = env.create_audience("a", ny_contacts([["answered"]] * 3))
    campaign_id = env.create_campaign(campaign_spec(audience.id)).id
    for command, status in (("start", "running"), ("pause", "paused"),
                            ("resume", "running")):
        code, out, _ = run("campaign", command, campaign_id)
        assert code == 0 and status in out, out
    code, out, _ = run("campaign", "channels", campaign_id, "7")
    assert code == 0 and "7 channels" in out
    code, _, err = run("campaign", "resume", campaign_id)
    assert code == 2 and "running" in one_line_error(err)
    code, _, err = run("campaign", "delete", campaign_id, "--yes")
    assert code == 2, "a running campaign cannot be deleted"
    one_line_error(err)
    assert run("campaign", "stop", campaign_id)[0] == 0
    code, out, _ = run("campaign", "delete", campaign_id, "--yes")
    assert code == 0 and "deleted" in out
    code, _, err = run("campaign", "show", campaign_id)
    assert code == 2 and "not found" in one_line_error(err)


def test_events_from_the_cli_are_marked_manual(env):
    audience = env.create_audience("a", ny_contacts([["answered"]] * 2))
    campaign_id = env.create_campaign(campaign_spec(audience.id)).id
    run("campaign", "start", campaign_id)
    run("campaign", "channels", campaign_id, "2")
    run("campaign", "pause", campaign_id)
    manual = [e.action for e in env.events(campaign_id) if e.source == "manual"]
    assert manual == ["started", "channels_allocated", "paused"]


def test_unknown_ids_and_services_down_are_one_line(env, monkeypatch):
    code, _, err = run("campaign", "start", "00000000-0000-0000-0000-000000000000")
    assert code == 2 and "not found" in one_line_error(err)
    monkeypatch.setenv("DIALER_DATABASE_URL", "postgresql+psycopg://127.0.0.1:1/nowhere")
    code, _, err = run("campaign", "list")
    assert code == 3 and "cannot reach a service" in one_line_error(err)


def test_list_and_show_agree_with_the_client(env):
    audience = env.create_audience("a", ny_contacts([["answered"]] * 4))
    first = env.create_campaign(campaign_spec(audience.id, name="first")).id
    second = env.create_campaign(campaign_spec(audience.id, name="second")).id
    env.start(second)
    code, out, _ = run("campaign", "list", "--json")
    assert code == 0
    assert [c["id"] for c in json.loads(out)] == [second, first]
    code, out, _ = run("campaign", "list", "--status", "running", "--json")
    assert [c["id"] for c in json.loads(out)] == [second]
    code, out, _ = run("campaign", "show", second, "--json")
    shown = json.loads(out)
    assert shown["metrics"] == env.get(second).metrics.model_dump(mode="json")
    assert [e["action"] for e in shown["events"]] == ["created", "started"]
    code, out, _ = run("campaign", "show", second)
    assert code == 0 and "total_participants" in out and "executions" in out


def test_dnc_add_remove_and_list_masked_unless_asked(env, tmp_path):
    numbers = tmp_path / "dnc.txt"
    numbers.write_text("phone\n+12125550199  # asked twice\n\n(212) 555-0198\n")
    code, out, _ = run("dnc", "add", "+1 212 555 0197", "--file", str(numbers))
    assert code == 0 and "3 numbers added" in out
    assert env.dnc() == ["+12125550197", "+12125550198", "+12125550199"]
    code, out, _ = run("dnc", "list")
    assert "+1212555****" in out and "+12125550197" not in out
    code, out, _ = run("dnc", "list", "--full")
    assert "+12125550197" in out
    code, out, _ = run("dnc", "remove", "+12125550197")
    assert code == 0 and "1 numbers removed" in out
    code, _, err = run("dnc", "add", "nonsense")
    assert code == 2 and "numbers[0]" in one_line_error(err)
    code, _, err = run("dnc", "add")
    assert code == 2 and "numbers" in one_line_error(err)
    assert env.dnc() == ["+12125550198", "+12125550199"]


def test_rejected_list_shows_refused_remote_requests(env):
    result = enqueue_campaign(env.runtime, {"name": "", "external_id": "crm-42"},
                              contacts=None, start=False)
    assert result["ok"] is False
    code, out, _ = run("rejected", "list", "--json")
    [row] = json.loads(out)
    assert row["task"] == "dialer.enqueue_campaign" and row["external_id"] == "crm-42"
    assert any(error[0] == "name" for error in row["errors"])
    code, out, _ = run("rejected", "list")
    assert code == 0 and "crm-42" in out


def test_watch_once_says_why_a_paused_campaign_will_not_dial(env):
    audience = env.create_audience("a", ny_contacts([["answered"]] * 2))
    campaign_id = env.create_campaign(campaign_spec(audience.id)).id
    env.start(campaign_id)
    env.pause(campaign_id)
    code, out, _ = run("watch", campaign_id, "--once")
    assert code == 0
    assert "will not dial" in out and "paused (manual): resume it" in out
    readiness = env.readiness(campaign_id)
    assert [c.name for c in readiness.checks if not c.ok] == ["running", "channel store ready"]


def test_watch_on_a_live_run_shows_channels_in_use_and_the_event_tail(make_stack, clean_state):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=30, lead_s=2)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    audience = client.create_audience("a", ny_contacts([["answered"]] * 6, talk_s=600))
    campaign_id = client.create_campaign(campaign_spec(audience.id,
                                                       pacing={"channels": 2})).id
    client.start(campaign_id)
    wait_for(lambda: client.get(campaign_id).metrics.channels_in_use == 2, timeout_s=30,
             what="two calls in flight")
    readiness = client.readiness(campaign_id)
    assert readiness.will_dial, readiness.checks
    runner = CliRunner(env={k: stack.env[k] for k in stack.env if k.startswith("DIALER_")})
    result = runner.invoke(app, ["watch", campaign_id, "--once"])
    assert result.exit_code == 0, result.output
    assert "will dial" in result.stdout and "will not dial" not in result.stdout
    assert "2 in use / 2 allocated" in result.stdout
    assert "started" in result.stdout
    client.stop(campaign_id)
    wait_for(lambda: status_of(client, campaign_id) == "stopped", timeout_s=10,
             what="stopped")


def test_file_and_setting_mistakes_are_one_line_errors(env, tmp_path, database_url,
                                                       monkeypatch):
    import yaml

    audience = env.create_audience("a", ny_contacts([["answered"]]))
    spec = campaign_spec(audience.id)
    # A BOM from a Windows editor is not part of the spec.
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8-sig")
    code, out, _ = run("campaign", "create", "-f", str(tmp_path / "spec.yaml"))
    assert code == 0, out
    # YAML 1.1 would read an unquoted 9:00 as the number 540; the error names the format.
    (tmp_path / "nine.yaml").write_text(
        yaml.safe_dump(spec).replace("start: 09:00", "start: 9:00"))
    code, _, err = run("campaign", "create", "-f", str(tmp_path / "nine.yaml"))
    assert code == 2 and "schedule.call_window.start: expected HH:MM" in one_line_error(err)

    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    code, _, err = run("campaign", "create", "-f", str(tmp_path / "latin1.yaml"))
    assert code == 2 and "not UTF-8" in one_line_error(err)

    (tmp_path / "dnc.csv").write_text("phone\n+12125550190\n", encoding="utf-8-sig")
    code, out, _ = run("dnc", "add", "--file", str(tmp_path / "dnc.csv"))
    assert code == 0 and "1 numbers added" in out, out

    source = tmp_path / "contacts.csv"
    source.write_text("phone\n+12125550101\nnonsense\n")
    code, _, err = run("audience", "create", "x", "--csv", str(source),
                       "--rejected-out", str(tmp_path / "missing" / "rejected.csv"))
    assert code == 2 and "--rejected-out" in one_line_error(err)
    assert [a.name for a in env.audiences()] == ["a"]  # checked before anything was written

    monkeypatch.setenv("DIALER_TIME_SCALE", "fast")
    code, _, err = run("campaign", "list")
    assert code == 2 and "DIALER_TIME_SCALE" in one_line_error(err)
