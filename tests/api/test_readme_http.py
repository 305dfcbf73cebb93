"""README's HTTP walk-through runs as written (the block after the marker comment
``<!-- test: http walk-through -->``), in bash, against a live uvicorn, worker and beat
with the simulated provider and a fast clock: the same commands a person types."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

MARKER = "<!-- test: http walk-through -->"


def walk_through() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(MARKER) + len(MARKER):]
    found = re.match(r"\s*```bash\n(.*?)^```", after, flags=re.MULTILINE | re.DOTALL)
    assert found, "the walk-through's bash block must follow its marker"
    return found.group(1)


def test_the_readme_http_walk_through_runs_a_campaign_to_completion(start_api, tmp_path: Path):
    api = start_api(dialing=True, provider="simulated", time_scale=60,
                    extra_env={"DIALER_SIM_TALK_S": "[5, 30]", "DIALER_SIM_RING_S": "[2, 8]"})
    env = {**api.stack.env, "API": api.base_url,
           # The installed project's console script and python first, as in a venv.
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + walk_through()],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr}\n{done.stdout}"
    assert "Traceback" not in done.stderr, done.stderr
    out = done.stdout
    assert "running" in out.splitlines()
    for event in ("lifecycle", "placed", "outcome", "metrics", "end"):
        assert f"event: {event}" in out, (event, out[-3000:])
    assert out.count("event: placed") >= 3
    assert '"status":"completed"' in out and 'data: {"reason":"completed"}' in out
