"""Campaign lifecycle transitions (CONTRACT §6) as a table, checked in one place."""

from __future__ import annotations

from dialer import statuses as s
from dialer.errors import InvalidTransition

# command -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({s.DRAFT}), s.SCHEDULED),
    "start": (frozenset({s.DRAFT, s.SCHEDULED}), s.RUNNING),
    "pause": (frozenset({s.RUNNING}), s.PAUSED),
    "resume": (frozenset({s.PAUSED}), s.RUNNING),
    "stop": (frozenset({s.DRAFT, s.SCHEDULED, s.RUNNING, s.PAUSED}), s.STOPPED),
    "complete": (frozenset({s.RUNNING}), s.COMPLETED),
    "fail": (frozenset({s.RUNNING, s.PAUSED, s.SCHEDULED}), s.FAILED),
    # A recurring campaign re-arms for its next period.
    "rearm": (frozenset({s.COMPLETED}), s.SCHEDULED),
}

DELETABLE: frozenset[str] = frozenset(set(s.CAMPAIGN_STATUSES) - {s.RUNNING})


def next_status(current: str, command: str) -> str:
    """The status ``command`` leads to from ``current``, or InvalidTransition."""
    try:
        allowed_from, target = TRANSITIONS[command]
    except KeyError:
        raise InvalidTransition(f"unknown command {command!r}") from None
    if current not in allowed_from:
        raise InvalidTransition(f"cannot {command} a campaign that is {current}")
    return target


def allowed_from(command: str) -> frozenset[str]:
    return TRANSITIONS[command][0]


def check_deletable(current: str) -> None:
    if current not in DELETABLE:
        raise InvalidTransition(
            f"cannot delete a campaign that is {current}; pause or stop it first")
