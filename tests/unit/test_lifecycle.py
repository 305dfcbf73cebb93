from __future__ import annotations

import pytest

from dialer import lifecycle
from dialer.errors import InvalidTransition
from dialer.statuses import CampaignStatus as C


@pytest.mark.parametrize(("current", "command", "expected"), [
    (C.DRAFT, "start", C.RUNNING),
    (C.SCHEDULED, "start", C.RUNNING),
    (C.RUNNING, "pause", C.PAUSED),
    (C.PAUSED, "resume", C.RUNNING),
    (C.DRAFT, "stop", C.STOPPED),
    (C.SCHEDULED, "stop", C.STOPPED),
    (C.RUNNING, "stop", C.STOPPED),
    (C.PAUSED, "stop", C.STOPPED),
    (C.RUNNING, "complete", C.COMPLETED),
])
def test_allowed(current, command, expected):
    assert lifecycle.next_status(current, command) == expected


@pytest.mark.parametrize(("current", "command"), [
    (C.RUNNING, "start"), (C.PAUSED, "start"), (C.COMPLETED, "start"),
    (C.DRAFT, "pause"), (C.PAUSED, "pause"), (C.RUNNING, "resume"),
    (C.COMPLETED, "stop"), (C.STOPPED, "stop"), (C.FAILED, "resume"),
    (C.PAUSED, "complete"),
])
def test_forbidden(current, command):
    with pytest.raises(InvalidTransition):
        lifecycle.next_status(current, command)


def test_running_campaign_cannot_be_deleted():
    with pytest.raises(InvalidTransition, match="pause or stop"):
        lifecycle.check_deletable(C.RUNNING)
    for status in (C.DRAFT, C.PAUSED, C.STOPPED, C.COMPLETED):
        lifecycle.check_deletable(status)
