"""Secondary numbers on the real stack: a worker, a beat, the simulated provider."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support.scenario import MONDAY_9AM_NY, launch, ny_contacts, status_of
from tests.support.stack import wait_for

pytestmark = pytest.mark.integration


def test_a_primary_that_never_answers_hands_over_to_its_secondary(
        make_stack, clean_state, database_url):
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=300)
    stack.start_worker(concurrency=2)
    stack.start_beat()
    client = stack.client()
    # Two attempts per number; the provider's script is per attempt of the contact.
    [contact] = ny_contacts([["no_answer", "busy", "no_answer", "answered"]])
    contact["secondary_phones"] = ["+12125559999"]
    campaign_id = launch(client, [contact], retry={"max_retries": 1, "retry_delay_minutes": 1})
    wait_for(lambda: status_of(client, campaign_id) == "completed", timeout_s=90,
             what="campaign completed")
    calls = sorted(client.calls(campaign_id), key=lambda c: c.attempt)
    assert [(c.attempt, c.phone, c.outcome) for c in calls] == [
        (1, contact["phone"], "no_answer"), (2, contact["phone"], "busy"),
        (3, "+12125559999", "no_answer"), (4, "+12125559999", "answered")]
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT status, phone_index, phone_attempts, answered_phone FROM participants")).one()
    engine.dispose()
    assert tuple(row) == ("completed", 1, 2, "+12125559999")
