from __future__ import annotations

import pytest

from dialer import lifecycle
from dialer import statuses as st
from dialer.errors import InvalidTransition


@pytest.mark.parametrize(("current", "command", "expected"), [
    (st.DRAFT, "start", st.RUNNING),
    (st.SCHEDULED, "start", st.RUNNING),
    (st.RUNNING, "pause", st.PAUSED),
    (st.PAUSED, "resume", st.RUNNING),
    (st.DRAFT, "stop", st.STOPPED),
    (st.SCHEDULED, "stop", st.STOPPED),
    (st.RUNNING, "stop", st.STOPPED),
    (st.PAUSED, "stop", st.STOPPED),
    (st.RUNNING, "complete", st.COMPLETED),
])
def test_allowed(current, command, expected):
    assert lifecycle.next_status(current, command) == expected


@pytest.mark.parametrize(("current", "command"), [
    (st.RUNNING, "start"), (st.PAUSED, "start"), (st.COMPLETED, "start"),
    (st.DRAFT, "pause"), (st.PAUSED, "pause"), (st.RUNNING, "resume"),
    (st.COMPLETED, "stop"), (st.STOPPED, "stop"), (st.FAILED, "resume"),
    (st.PAUSED, "complete"),
])
def test_forbidden(current, command):
    with pytest.raises(InvalidTransition):
        lifecycle.next_status(current, command)


def test_running_campaign_cannot_be_deleted():
    with pytest.raises(InvalidTransition, match="pause or stop"):
        lifecycle.check_deletable(st.RUNNING)
    for status in (st.DRAFT, st.PAUSED, st.STOPPED, st.COMPLETED):
        lifecycle.check_deletable(status)
