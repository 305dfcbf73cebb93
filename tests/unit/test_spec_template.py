"""``dialer campaign template``: a commented spec that validates, shipped as examples/spec.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from typer.testing import CliRunner

from dialer.cli import app
from dialer.cli_campaign import _spec_yaml_loader
from dialer.spec import CampaignSpec, parse_campaign_spec
from dialer.spec_template import SPEC_TEMPLATE

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spec.yaml"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_template_command_prints_the_template_verbatim():
    result = CliRunner().invoke(app, ["campaign", "template"])
    assert result.exit_code == 0
    assert result.stdout == SPEC_TEMPLATE


def test_examples_spec_yaml_is_exactly_the_template():
    # The README's commands use examples/spec.yaml: it must be what the command prints.
    assert EXAMPLE.read_text(encoding="utf-8") == SPEC_TEMPLATE


def test_template_validates_and_writes_out_every_default():
    data = yaml.load(SPEC_TEMPLATE, Loader=_spec_yaml_loader())
    spec = parse_campaign_spec(data, now=NOW)
    # Only what a first campaign needs differs from the model's own defaults, so the
    # comments' "default" cannot drift from dialer/spec.py unnoticed.
    expected = CampaignSpec(name="March renewals", agent_id="agent-1",
                            timezone="America/New_York", pacing={"channels": 5})
    assert spec == expected
    # Every field is written out (audience and caller IDs come from the command line).
    def keys(model: type, prefix: str = "") -> set[str]:
        out = set()
        for name, field in model.model_fields.items():
            out.add(prefix + name)
            sub = field.annotation
            if isinstance(sub, type) and hasattr(sub, "model_fields"):
                out |= keys(sub, f"{prefix}{name}.")
        return out

    def written(value: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, item in value.items():
            out.add(prefix + key)
            if isinstance(item, dict):
                out |= written(item, f"{prefix}{key}.")
        return out

    assert keys(CampaignSpec) - written(data) == {"audience_id", "phone_number_ids"}
    assert "# audience_id:" in SPEC_TEMPLATE and "# phone_number_ids:" in SPEC_TEMPLATE


def test_docs_spec_full_example_validates_and_names_every_field():
    import json
    import re

    doc = (EXAMPLE.parents[1] / "docs" / "spec.md").read_text(encoding="utf-8")
    example = doc.split("## A full example", 1)[1]
    [block] = re.findall(r"```json\n(.*?)```", example, flags=re.DOTALL)[:1]
    data = json.loads(block)
    spec = parse_campaign_spec(data, now=NOW)
    assert spec.schedule.holiday_country == "US" and spec.pacing.channels == 5
    # The reference table has a row for every leaf field of the spec.
    table = doc.split("## Bounds of every field", 1)[1].split("## ", 1)[0]
    for path in _leaves(CampaignSpec):
        leaf = path.rsplit(".", 1)[-1]
        assert f"`{path}`" in table or f".{leaf}`" in table or f"`{leaf}`" in table, path


def _leaves(model: type, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, field in model.model_fields.items():
        sub = field.annotation
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            out += _leaves(sub, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out
