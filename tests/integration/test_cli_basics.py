"""The `dialer` command against the real PostgreSQL (Typer's runner)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dialer.cli import app
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration


@pytest.fixture
def env(cli_environment):
    return cli_environment("2026-03-06T17:50:00-05:00")


def test_forecast_and_skips_commands(env):
    audience = env.create_audience("a", ny_contacts([["answered"]] * 20))
    campaign = env.create_campaign(campaign_spec(audience.id))
    runner = CliRunner()
    result = runner.invoke(app, ["forecast", campaign.id])
    assert result.exit_code == 0, result.output
    assert "calls per hour:" in result.output and "eta:" in result.output
    result = runner.invoke(app, ["skips", campaign.id])
    assert result.exit_code == 0, result.output


def test_db_upgrade_is_idempotent(env):
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
