"""Console sessions (dialer.service.orgs): a key signs a browser in to a session of its
own; the session, not the key, is what the cookie carries; it ends at sign out, at
its expiry (real hours, whatever the clock's scale) or when its key is revoked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dialer.service import orgs
from dialer.service.runtime import build_runtime
from dialer.settings import load_settings
from tests.support.clock import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions_runtime(clean_state, database_url):
    """A runtime on the real PostgreSQL with a fake clock running 60x (as a test
    stack's does), sessions lasting 2 real hours, and the organisation `acme`."""
    settings = load_settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0",
                             time_scale=60.0, console_session_hours=2.0)
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    rt = dataclasses.replace(
        build_runtime(settings, dispatcher=None, provider_factory=lambda _: None,  # type: ignore[arg-type]
                      pool_size=2),
        clock=clock)
    orgs.create_org(rt, "acme")
    yield rt, clock
    rt.close()


def test_a_session_acts_for_its_keys_organisation_and_stores_no_token(sessions_runtime):
    rt, _ = sessions_runtime
    _, key = orgs.create_api_key(rt, "acme")
    started = orgs.start_console_session(rt, key)
    assert started is not None
    org, token = started
    assert org.name == "acme" and token.startswith("dcs_") and key not in token
    assert orgs.console_session_org(rt, token) == org
    with rt.unit_of_work() as session:
        stored = session.execute(sa.text("SELECT token_hash FROM console_sessions")
                                 ).scalars().all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64
    # A key is not a session token, nor anything else.
    for stranger in (key, "", "dcs_" + "x" * 43, None):
        assert orgs.console_session_org(rt, stranger) is None  # type: ignore[arg-type]


def test_a_refused_key_starts_no_session(sessions_runtime):
    rt, _ = sessions_runtime
    _, key = orgs.create_api_key(rt, "acme")
    assert orgs.start_console_session(rt, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert orgs.start_console_session(rt, "not a key") is None


def test_sign_out_ends_the_session_and_only_that_one(sessions_runtime):
    rt, _ = sessions_runtime
    _, key = orgs.create_api_key(rt, "acme")
    (_, first), (_, second) = (orgs.start_console_session(rt, key),  # type: ignore[misc]
                               orgs.start_console_session(rt, key))
    orgs.end_console_session(rt, first)
    assert orgs.console_session_org(rt, first) is None
    assert orgs.console_session_org(rt, second) is not None


def test_revoking_the_key_ends_its_sessions(sessions_runtime):
    rt, _ = sessions_runtime
    created, key = orgs.create_api_key(rt, "acme")
    _, token = orgs.start_console_session(rt, key)  # type: ignore[misc]
    orgs.revoke_api_key(rt, created.id)
    assert orgs.console_session_org(rt, token) is None


def test_a_session_expires_after_its_real_hours_on_a_scaled_clock(sessions_runtime):
    rt, clock = sessions_runtime
    _, key = orgs.create_api_key(rt, "acme")
    _, token = orgs.start_console_session(rt, key)  # type: ignore[misc]
    # Two real hours at 60x are 120 simulated hours.
    clock.advance(timedelta(hours=119).total_seconds())
    assert orgs.console_session_org(rt, token) is not None
    clock.advance(timedelta(hours=1).total_seconds())
    assert orgs.console_session_org(rt, token) is None
    # The next sign-in with the key drops what ended.
    orgs.start_console_session(rt, key)
    with rt.unit_of_work() as session:
        count = session.execute(sa.text("SELECT count(*) FROM console_sessions")).scalar_one()
    assert count == 1
