"""The CLI prints what people typed, literally, and takes lists of any size.

Names come from people and other services: one like ``[/x]`` is not Rich
markup (today it crashes the table, and ``[bold]x`` silently loses its
brackets). And a do-not-call file of 40,000 numbers is an ordinary export,
more than one INSERT's 65,535 bind parameters can carry.
"""

from __future__ import annotations

import json

import pytest

from dialer.service.remote import enqueue_campaign
from tests.support.cli import run
from tests.support.scenario import campaign_spec, ny_contacts

pytestmark = pytest.mark.integration

OPEN_WINDOW = "2026-03-02T10:00:00-05:00"
CLOSING = "[/x]"
OPENING = "[bold]x"


@pytest.fixture
def env(cli_environment, monkeypatch):
    from dialer import cli_common

    # Wide enough that no cell wraps: the assertions look for whole names.
    monkeypatch.setattr(cli_common.console, "_width", 240)
    return cli_environment(OPEN_WINDOW)


def test_names_with_markup_print_literally_in_every_table(env):
    env.add_phone_number("+12125550100", provider=CLOSING)
    audience = env.create_audience(CLOSING, ny_contacts([["answered"]]))
    env.create_audience(OPENING, ny_contacts([["answered"]]))
    closing = env.create_campaign(campaign_spec(audience.id, name=CLOSING)).id
    opening = env.create_campaign(campaign_spec(audience.id, name=OPENING)).id
    enqueue_campaign(env.runtime, {"name": "", "external_id": OPENING}, contacts=None,
                     start=False)

    for args, shown in ((("audience", "list"), (CLOSING, OPENING)),
                        (("campaign", "list"), (CLOSING, OPENING)),
                        (("campaign", "show", closing), (CLOSING,)),
                        (("campaign", "show", opening), (OPENING,)),
                        (("campaign", "start", opening), ()),
                        (("watch", closing, "--once"), (CLOSING,)),
                        (("phone", "list"), (CLOSING,)),
                        (("rejected", "list"), (OPENING,))):
        code, out, err = run(*args)
        assert code == 0, (args, out, err)
        for text in shown:
            assert text in out, (args, out)


def test_an_error_message_quoting_markup_prints_literally(env, tmp_path):
    missing = tmp_path / f"{OPENING}.csv"
    code, _, err = run("audience", "create", "a", "--csv", str(missing))
    assert code == 2 and f"{OPENING}.csv" in err, err


def forty_thousand(area: str) -> list[str]:
    """Valid, distinct, sorted NANP numbers: exchanges 200-203, lines 0000-9999."""
    return [f"+1{area}{200 + i // 10_000}{i % 10_000:04d}" for i in range(40_000)]


def test_dnc_add_of_forty_thousand_numbers(env, tmp_path):
    numbers = forty_thousand("212")
    source = tmp_path / "dnc.txt"
    source.write_text("\n".join(numbers) + "\n")
    code, out, err = run("dnc", "add", "--file", str(source))
    assert code == 0, err
    assert "40000 numbers added" in out
    dnc = env.dnc()
    assert len(dnc) == 40_000 and dnc[0] == numbers[0] and dnc[-1] == numbers[-1]
    # Adding them again adds nothing; removing them all removes them all.
    code, out, _ = run("dnc", "add", "--file", str(source))
    assert code == 0 and "0 numbers added" in out
    code, out, _ = run("dnc", "remove", "--file", str(source))
    assert code == 0 and "40000 numbers removed" in out
    assert env.dnc() == []


def test_dnc_add_through_the_client_in_one_transaction(env):
    """Batched, yet all or nothing: a bad number anywhere writes nothing."""
    numbers = forty_thousand("212")
    assert env.add_dnc(numbers) == 40_000
    with pytest.raises(ValueError):
        env.add_dnc([*forty_thousand("646"), "not a number"])
    assert len(env.dnc()) == 40_000
    assert json.dumps(env.dnc()[:1]) == json.dumps(numbers[:1])
