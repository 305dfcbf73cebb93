"""Campaign lifecycle transitions (docs/contract.md §6) as a table, checked in one place."""

from __future__ import annotations

from dialer import statuses as s
from dialer.errors import InvalidTransition
from dialer.statuses import CampaignStatus as C

# command -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({C.DRAFT}), C.SCHEDULED),
    # update_campaign clearing scheduled_at (dialer/editing.py).
    "unschedule": (frozenset({C.SCHEDULED}), C.DRAFT),
    "start": (frozenset({C.DRAFT, C.SCHEDULED}), C.RUNNING),
    "pause": (frozenset({C.RUNNING}), C.PAUSED),
    "resume": (frozenset({C.PAUSED}), C.RUNNING),
    "stop": (frozenset({C.DRAFT, C.SCHEDULED, C.RUNNING, C.PAUSED}), C.STOPPED),
    "complete": (frozenset({C.RUNNING}), C.COMPLETED),
    "fail": (frozenset({C.RUNNING, C.PAUSED, C.SCHEDULED}), C.FAILED),
    # A recurring campaign re-arms for its next period.
    "rearm": (frozenset({C.COMPLETED}), C.SCHEDULED),
}

DELETABLE: frozenset[str] = frozenset(set(s.CAMPAIGN_STATUSES) - {C.RUNNING})


def next_status(current: str, command: str) -> str:
    """The status ``command`` leads to from ``current``, or InvalidTransition."""
    try:
        allowed_from, target = TRANSITIONS[command]
    except KeyError:
        raise InvalidTransition(f"unknown command {command!r}") from None
    if current not in allowed_from:
        raise InvalidTransition(f"cannot {command} a campaign that is {current}")
    return target


# The moves that end in dialing need an agent: the provider receives it with every call.
NEEDS_AGENT = frozenset({"start", "schedule"})
NO_AGENT = "no agent_id set: set one with update_campaign first"


def check_agent(command: str, agent_id: str | None) -> None:
    """InvalidTransition naming ``agent_id`` when ``command`` needs an agent and the
    campaign has none (the readiness checklist's "agent" check says the same)."""
    if command in NEEDS_AGENT and not agent_id:
        raise InvalidTransition(f"cannot {command} a campaign without an agent: {NO_AGENT}",
                                field="agent_id")


def allowed_from(command: str) -> frozenset[str]:
    return TRANSITIONS[command][0]


def check_deletable(current: str) -> None:
    if current not in DELETABLE:
        raise InvalidTransition(
            f"cannot delete a campaign that is {current}; pause or stop it first")
