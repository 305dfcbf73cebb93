"""``dialer campaign analytics``: the client's figures as tables and as JSON."""

from __future__ import annotations

import json

import pytest

from tests.support.analytics_rows import CALLER_B, MONDAY, Row, make_campaign, write_rows
from tests.support.cli import run

pytestmark = pytest.mark.integration


@pytest.fixture
def env(cli_environment):
    return cli_environment("2026-03-02T12:00:00-05:00")


def test_the_analytics_command_prints_what_the_client_returns(env):
    campaign_id, p = make_campaign(env, 3)
    write_rows(env, campaign_id, [
        Row(p[0], 1, "no_answer", MONDAY), Row(p[0], 2, "answered", MONDAY, CALLER_B, True),
        Row(p[1], 1, "busy", MONDAY)], executions=[(1, "running", MONDAY, None, 3)])

    code, out, err = run("campaign", "analytics", campaign_id[:8], "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["funnel"] == env.funnel(campaign_id).model_dump(mode="json")
    assert shown["pickup_by_attempt"] == [
        r.model_dump(mode="json") for r in env.pickup_by_attempt(campaign_id)]
    assert shown["pickup_by_caller_id"] == [
        r.model_dump(mode="json") for r in env.pickup_by_caller_id(campaign_id)]
    assert shown["heatmap"]["placed"] == 3 and len(shown["heatmap"]["cells"]) == 168
    assert shown["executions"]["total"] == 1

    code, out, err = run("campaign", "analytics", campaign_id)
    assert code == 0, err
    for words in ("funnel", "goal_achieved", "pickup by attempt", "pickup by caller ID",
                  CALLER_B, "executions: 1 (1 running", "2/3", "66.7%", "America/New_York", "mon",
                  "sun"):
        assert words in out, words


def test_an_unknown_campaign_is_one_line_and_exit_2(env):
    code, _, err = run("campaign", "analytics", "00000000-0000-4000-8000-000000000000")
    assert code == 2 and "not found" in err and "Traceback" not in err
