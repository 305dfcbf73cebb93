"""The README's commands run as written (issue #16 item 3).

The ``bash`` blocks of README.md's "Running it" section (its subsection "The
``dialer`` command" included) and its Python snippet are read from the file and
run as they stand, nothing substituted, in the repository's root, against the
test PostgreSQL and Redis (``DIALER_DATABASE_URL``/``DIALER_REDIS_URL`` in the
environment, as a person would set them). Each block runs in one ``bash -e``,
so a variable set by one command (``CAMPAIGN=$(...)``) reaches the next, and
every ``dialer`` command is its own process; the test fails on the first one
that exits non-zero.

The one documented rule for what is not run: a command that starts a process
meant to run until stopped (``celery ... worker|beat|flower``, ``dialer watch``
without ``--once``, ``dialer metrics serve``, ``dialer demo``) and the
installation step (``pip install``: the test already runs inside the installed
project). Each skipped line is listed in the test's output, never dropped
silently, and the block must still contain a command that runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

LONG_RUNNING = re.compile(
    r"^(celery\s.*\b(worker|beat|flower)\b"
    r"|dialer\s+watch\b(?!.*--once)"
    r"|dialer\s+metrics\s+serve\b"
    r"|dialer\s+demo\b)")
INSTALL = re.compile(r"^pip\s+install\b")


def section(text: str, heading: str) -> str:
    """From ``heading`` to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(f"\n{heading}\n")
    rest = text[start + len(heading) + 2:]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.MULTILINE)
    return rest[: end.start() if end else len(rest)]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[str]:
    """Logical lines: continuations joined, blank lines and comment lines dropped."""
    out: list[str] = []
    for line in block.replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line.strip())
    return out


def skipped(command: str) -> str | None:
    if LONG_RUNNING.match(command):
        return "starts a long-running process"
    if INSTALL.match(command):
        return "installation: the test runs inside the installed project"
    return None


@pytest.fixture
def person_env(clean_state, database_url: str, redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIALER_")}
    env |= {"DIALER_DATABASE_URL": database_url, "DIALER_REDIS_URL": redis_url,
            # The console script and python of the installed project come first.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    return env


def run_block(block: str, env: dict[str, str]) -> None:
    to_run: list[str] = []
    for command in commands(block):
        reason = skipped(command)
        if reason:
            print(f"README: not run ({reason}): {command}")
        else:
            to_run.append(command)
    assert to_run, f"a README block with nothing to run:\n{block}"
    script = "set -euo pipefail\nset -x\n" + "\n".join(to_run) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, (
        f"README block failed (exit {done.returncode}); the last '+' line is the "
        f"command:\n{done.stderr}\n{done.stdout}")
    assert "Traceback" not in done.stderr, done.stderr


def test_the_rule_skips_exactly_the_long_running_commands():
    assert skipped("celery -A workers.app worker") and skipped("celery -A workers.app beat")
    assert skipped("celery -A workers.app flower --port=5599")
    assert skipped('dialer watch "$CAMPAIGN"') and not skipped('dialer watch "$C" --once')
    assert skipped("dialer metrics serve --port 9108") and skipped("pip install -e .")
    assert not skipped("dialer db upgrade") and not skipped("dialer campaign list")


def test_readme_command_blocks_and_python_snippet_run_as_written(person_env):
    text = README.read_text(encoding="utf-8")
    running = section(text, "## Running it")
    bash_blocks = blocks(running, "bash")
    assert len(bash_blocks) >= 2, "the README's 'Running it' commands moved"
    assert any("examples/spec.yaml" in b for b in bash_blocks)
    for block in bash_blocks:
        run_block(block, person_env)
    # The Python snippet after the commands, as a person runs it next: it must not
    # collide with what the commands registered (the number, the audience's name).
    [snippet] = blocks(section(text, "### Using it from Python"), "python")
    done = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, env=person_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
