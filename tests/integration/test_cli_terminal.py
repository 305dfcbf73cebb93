"""The ``dialer`` command as people run it: an 80-column terminal, a pipe, a typo.

Tables must keep what a person reads them for (name, status) at 80 columns,
whether the width comes from ``COLUMNS`` off a terminal or from the terminal
itself; the short ids they show must still work wherever an id is taken.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.support.cli import run
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

OPEN_WINDOW = "2026-03-02T10:00:00-05:00"
NAME = "spring renewals east"
AUDIENCE = "march renewals list"


@pytest.fixture
def env(cli_environment):
    return cli_environment(OPEN_WINDOW)


def run_process(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real console script's code, stdout a pipe (not a TTY)."""
    return subprocess.run([sys.executable, "-m", "dialer.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def seeded(env) -> tuple[str, str, str]:
    phone = env.add_phone_number("+12125550100", provider="simulated")
    audience = env.create_audience(AUDIENCE, ny_contacts([["answered"]] * 3))
    campaign = env.create_campaign(campaign_spec(audience.id, name=NAME))
    env.start(campaign.id)
    return campaign.id, audience.id, phone.id


def assert_fits_and_shows(out: str, *words: str) -> None:
    for line in out.splitlines():
        assert len(line) <= 80, f"wider than 80 columns: {line!r}"
    for word in words:
        assert word in out, f"{word!r} is not shown whole:\n{out}"


LISTS = (("campaign", "list"), ("audience", "list"), ("phone", "list"))


def expected(campaign_id: str, audience_id: str, phone_id: str) -> dict[str, tuple[str, ...]]:
    return {"campaign": (NAME, "running", campaign_id[:8]),
            "audience": (AUDIENCE, "3", audience_id[:8]),
            "phone": ("+12125550100", "simulated", "yes", phone_id[:8])}


def test_list_tables_at_80_columns_off_a_terminal_show_name_and_status(env):
    ids = seeded(env)
    for command in LISTS:
        done = run_process(*command, COLUMNS="80")
        assert done.returncode == 0, done.stderr
        assert_fits_and_shows(done.stdout, *expected(*ids)[command[0]])
        # --wide is asked for: every column whole, even past the 80 columns.
        done = run_process(*command, "--wide", COLUMNS="80")
        full_id = dict(zip(("campaign", "audience", "phone"), ids, strict=True))[command[0]]
        for word in (full_id, *expected(*ids)[command[0]][:-1]):
            assert word in done.stdout, done.stdout


def test_list_tables_on_an_80_column_console_show_name_and_status(env, monkeypatch):
    from dialer import cli_common

    monkeypatch.setattr(cli_common.console, "_width", 80)
    ids = seeded(env)
    for command in LISTS:
        code, out, _ = run(*command)
        assert code == 0
        assert_fits_and_shows(out, *expected(*ids)[command[0]])


def test_wide_and_json_show_whole_ids_and_a_unique_prefix_is_taken(env, monkeypatch):
    from dialer import cli_common

    monkeypatch.setattr(cli_common.console, "_width", 200)
    campaign_id, audience_id, phone_id = seeded(env)
    for command, full in zip(LISTS, (campaign_id, audience_id, phone_id), strict=True):
        code, out, _ = run(*command, "--wide")
        assert code == 0 and full in out, out
        code, out, _ = run(*command, "--json")
        assert code == 0 and full in [row["id"] for row in json.loads(out)], out

    short = campaign_id[:8]
    code, out, _ = run("campaign", "pause", short)
    assert code == 0 and f"campaign {campaign_id}: paused" in out, out
    code, out, _ = run("campaign", "show", short, "--json")
    assert code == 0 and json.loads(out)["campaign"]["id"] == campaign_id
    code, out, _ = run("watch", short, "--once")
    assert code == 0 and "will not dial" in out
    code, out, _ = run("phone", "disable", phone_id[:6])
    assert code == 0 and f"phone number {phone_id}: inactive" in out
    # Ambiguous or unknown prefixes are one-line user mistakes, never a guess.
    code, _, err = run("campaign", "show", "")
    assert code == 2 and "not found" in one_line_error(err)
    code, _, err = run("campaign", "show", "zzzzzzzz")
    assert code == 2 and "not found" in one_line_error(err)
    code, _, err = run("campaign", "show", campaign_id[:3])
    assert code == 2 and "first 4 characters" in one_line_error(err)
    twins = [env.add_phone_number(f"+1212555011{n}").id for n in (1, 2)]
    engine = sa.create_engine(env.settings.database_url)
    with engine.begin() as conn:
        for n, twin in enumerate(twins, start=1):
            conn.execute(sa.text("UPDATE phone_numbers SET id = :new WHERE id = :old"),
                         {"new": f"abcd1234-0000-4000-8000-00000000000{n}", "old": twin})
    engine.dispose()
    code, _, err = run("phone", "disable", "abcd1234")
    assert code == 2 and "ambiguous" in one_line_error(err)
    code, out, _ = run("phone", "disable", "abcd1234-0000-4000-8000-000000000002")
    assert code == 0 and "inactive" in out


def test_channels_says_when_the_organisation_cap_capped_it(env, monkeypatch):
    monkeypatch.setenv("DIALER_ORG_CHANNEL_CAP", "7")
    campaign_id, _, _ = seeded(env)
    code, out, _ = run("campaign", "channels", campaign_id, "50")
    assert code == 0, out
    assert "7 channels" in out and "asked 50" in out
    assert "capped by the channel cap 7 of organisation default" in out
    code, out, _ = run("campaign", "channels", campaign_id, "5")
    assert code == 0 and "5 channels" in out and "capped" not in out


def test_channels_minus_one_is_a_validation_error_naming_the_field(env):
    campaign_id, _, _ = seeded(env)
    code, out, err = run("campaign", "channels", campaign_id, "-1")
    assert code == 2, out + err
    line = one_line_error(err)
    assert "channels" in line and "No such option" not in line
    assert env.get(campaign_id).campaign.channels != -1


def test_delete_is_checked_before_the_prompt(env):
    campaign_id, _, _ = seeded(env)
    # Running: refused at once, no question asked first.
    code, out, err = run("campaign", "delete", campaign_id, input="y\n")
    assert code == 2 and "Delete campaign" not in out
    assert "running" in one_line_error(err)
    code, out, err = run("campaign", "delete", "00000000-0000-0000-0000-000000000000",
                         input="y\n")
    assert code == 2 and "Delete campaign" not in out
    assert "not found" in one_line_error(err)
    # Allowed: the question is asked, and "no" deletes nothing.
    env.stop(campaign_id)
    code, out, _ = run("campaign", "delete", campaign_id, input="n\n")
    assert code != 0 and "Delete campaign" in out
    assert env.get(campaign_id).campaign.id == campaign_id
    code, out, _ = run("campaign", "delete", campaign_id, input="y\n")
    assert code == 0 and "deleted" in out


def test_rejected_out_keeps_the_original_rows_with_the_phone_masked(env, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text(
        "phone,name,timezone,plan\n"
        "+12125550101,Ann,America/New_York,gold\n"
        "+1212555,Bob,America/New_York,silver\n"
        "+12125550102,Cy,Mars/Olympus,bronze\n"
        "+12125550101,Ann again,,gold\n")
    out_file = tmp_path / "rejected.csv"
    code, _, err = run("audience", "create", "x", "--csv", str(source),
                       "--rejected-out", str(out_file))
    assert code == 0, err
    with out_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "error", "phone", "name", "timezone", "plan"]
    body = {int(r[0]): r for r in rows[1:]}
    assert sorted(body) == [3, 4, 5]
    assert body[3][2:] == ["+121****", "Bob", "America/New_York", "silver"]
    assert body[3][1].startswith("phone:")
    assert body[4][2:] == ["+1212555****", "Cy", "Mars/Olympus", "bronze"]
    assert "timezone" in body[4][1]
    assert body[5][2:] == ["+1212555****", "Ann again", "", "gold"]
    assert "duplicate" in body[5][1]
    assert "+12125550102" not in out_file.read_text()
    # --full writes whole numbers: fixed rows can then be re-imported as they are.
    code, _, err = run("audience", "create", "y", "--csv", str(source),
                       "--rejected-out", str(out_file), "--full")
    assert code == 0, err
    assert "+12125550102,Cy,Mars/Olympus,bronze" in out_file.read_text()


@pytest.fixture
def missing_databases(database_url):
    url = make_url(database_url)
    names = [f"{url.database}_absent", f"{url.database}_unmigrated"]
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{names[1]}"'))
    yield [url.set(database=name).render_as_string(hide_password=False) for name in names]
    drop()
    admin.dispose()


def test_a_missing_database_or_schema_says_to_run_db_upgrade(env, missing_databases,
                                                            monkeypatch):
    for url in missing_databases:
        monkeypatch.setenv("DIALER_DATABASE_URL", url)
        for command in (("campaign", "list"), ("audience", "list")):
            code, _, err = run(*command)
            line = one_line_error(err)
            assert code == 3 and "dialer db upgrade" in line, (url, err)


class LineReader:
    """A process's stdout as it arrives, read in a thread: what a pipe's reader sees."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process, self.seen = process, []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, enough, what: str, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not enough(self.seen):
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {what} within {timeout_s}s; read so far:\n"
                                     f"{''.join(self.seen)}") from None
            if line is None:
                raise AssertionError(f"stdout closed before {what}:\n{''.join(self.seen)}")
            self.seen.append(line)

    def rest(self, timeout_s: float = 20.0) -> str:
        self.process.wait(timeout=timeout_s)
        while (line := self._lines.get(timeout=timeout_s)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def frames(seen: list[str]) -> int:
    return sum("will it dial?" in line for line in seen)


def test_watch_piped_prints_a_frame_per_interval_and_exits_cleanly_on_sigterm(env):
    campaign_id, _, _ = seeded(env)
    with subprocess.Popen(
            [sys.executable, "-m", "dialer.cli", "watch", campaign_id, "--interval", "0.3"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "COLUMNS": "80"}) as process:
        try:
            lines = LineReader(process)
            # Seen by the reader while the watch still runs: flushed frame by frame.
            lines.wait_for(lambda seen: frames(seen) >= 3, "three frames")
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
            out = lines.rest()
        finally:
            if process.poll() is None:
                process.kill()
        assert process.stderr is not None
        err = process.stderr.read()
    assert process.returncode == 0, err
    assert frames(out.splitlines()) >= 3
    assert "\x1b[" not in out  # plain text: no cursor movement, no colour codes
    assert NAME in out and "Traceback" not in err


def test_metrics_serve_binds_loopback_unless_told(env, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with subprocess.Popen([sys.executable, "-m", "dialer.cli", "metrics", "serve",
                           "--port", str(port)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as process:
        try:
            lines = LineReader(process)
            lines.wait_for(lambda seen: any("serving metrics" in line for line in seen),
                           "banner")
            assert f"http://127.0.0.1:{port}/metrics" in "".join(lines.seen)
            listening = _listening_addresses(port)
            assert listening == {"127.0.0.1"}, listening
        finally:
            process.terminate()
            process.wait(timeout=30)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port``, from the kernel's own table."""
    import ipaddress

    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as handle:
            next(handle)
            for line in handle:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    if len(raw) == 4:
                        found.add(str(ipaddress.IPv4Address(raw[::-1])))
                    else:
                        found.add(re.sub(r"^::ffff:", "", str(ipaddress.IPv6Address(
                            b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))))
    return found


def test_a_clean_start_logs_no_warning_about_leases(clean_state, database_url, redis_url,
                                                     caplog):
    import logging

    from dialer.service.leasing import ensure_leases_ready
    from tests.support.in_process import OPEN_WINDOW as OPEN
    from tests.support.in_process import in_process_runtime

    origin = f"{OPEN.isoformat()}@{time.time():.6f}"
    runtime = in_process_runtime(database_url, redis_url, origin)
    try:
        with caplog.at_level(logging.INFO, logger="dialer"):
            assert ensure_leases_ready(runtime, runtime.clock.now()) is True
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == [], [r.getMessage() for r in warnings]
    finally:
        runtime.close()
