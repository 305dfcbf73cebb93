"""A result's extras stored on its call: the real tick, dial and result on the real
PostgreSQL (coordination in memory, the ``world`` of test_use_cases_in_memory.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialer.provider import ResultExtras
from dialer.service.dial import dial
from dialer.service.results import record_result
from dialer.service.steps.settle import DEADLINE_DETAIL
from dialer.service.tick import tick
from tests.integration.test_use_cases_in_memory import World
from tests.integration.test_use_cases_in_memory import world as world  # the fixture

pytestmark = pytest.mark.integration

EXTRAS = ResultExtras(recording_url="https://media.example.com/r/1.wav",
                      transcript_url="https://media.example.com/t/1.txt",
                      cost=Decimal("0.026000"))


def placed(world: World, n: int) -> list[str]:
    world.launch(n)
    tick(world.rt)
    call_ids = world.dispatcher.dialed()
    for call_id in call_ids:
        assert dial(world.rt, call_id) == "placed"
    return call_ids


def stored(world: World, call_id: str) -> tuple:
    [row] = world.query("SELECT outcome, recording_url, transcript_url, cost FROM calls "
                        "WHERE id = :id", id=call_id)
    return tuple(row)


def test_extras_are_stored_with_the_outcome_and_a_replay_changes_nothing(world: World) -> None:
    with_extras, without = placed(world, 2)
    assert record_result(world.rt, with_extras, outcome="answered", duration_s=61,
                         extras=EXTRAS) == "recorded"
    # An older sender: no extras at all.
    assert record_result(world.rt, without, outcome="busy") == "recorded"
    assert stored(world, with_extras) == ("answered", EXTRAS.recording_url,
                                          EXTRAS.transcript_url, Decimal("0.026000"))
    assert stored(world, without) == ("busy", None, None, None)

    replay = ResultExtras(recording_url="https://elsewhere.example.com/x", cost=Decimal("9"))
    assert record_result(world.rt, with_extras, outcome="answered", extras=replay) == "ignored"
    assert record_result(world.rt, without, outcome="busy", extras=replay) == "ignored"
    assert stored(world, with_extras)[1:] == (EXTRAS.recording_url, EXTRAS.transcript_url,
                                              Decimal("0.026000"))
    assert stored(world, without)[1:] == (None, None, None)


def test_a_late_result_brings_its_extras(world: World) -> None:
    [call_id] = placed(world, 1)
    assert record_result(world.rt, call_id, outcome="failed",
                         detail=DEADLINE_DETAIL) == "recorded"  # the sweep's guess
    assert record_result(world.rt, call_id, outcome="answered", duration_s=30,
                         extras=EXTRAS) == "reconciled"
    assert stored(world, call_id) == ("answered", EXTRAS.recording_url, EXTRAS.transcript_url,
                                      Decimal("0.026000"))
