""""Will it dial?": the checklist an on-call person reads before asking why nothing happens.

Pure: the service layer gathers ``ReadinessFacts`` from PostgreSQL and Redis;
this module only decides which checks pass and how to say why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dialer import lifecycle
from dialer import statuses as st


@dataclass(frozen=True)
class ReadinessFacts:
    status: str
    pause_reason: str | None
    scheduled_at: datetime | None
    agent_id: str | None
    numbers_listed: int          # caller IDs named by the campaign
    numbers_active: int          # ... of which still active
    contacts_waiting: int        # participants not yet terminal
    contacts_due: int            # ... whose next attempt is due now
    channels: int
    org_channel_cap: int
    zones_sampled: int           # distinct calling-zone sets among waiting contacts
    zones_open: int              # ... whose window is open now
    next_opening: datetime | None
    closed_reason: str | None    # why the window is shut (when no zone is open)
    breaker_open: bool
    leases_ready: bool


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def readiness_checks(facts: ReadinessFacts) -> list[Check]:
    """Every condition the dialer needs before it places a call, in the order to fix them."""
    return [
        _status_check(facts),
        # The same condition, in the same words, as start and schedule refuse with.
        Check("agent", bool(facts.agent_id),
              f"agent {facts.agent_id}" if facts.agent_id else lifecycle.NO_AGENT),
        _caller_id_check(facts),
        Check("contacts", facts.contacts_waiting > 0,
              f"{facts.contacts_waiting} waiting, {facts.contacts_due} due now"
              if facts.contacts_waiting else "no contact left to call"),
        _channels_check(facts),
        _window_check(facts),
        Check("breaker closed", not facts.breaker_open,
              "tripped: reset_breaker, then resume" if facts.breaker_open else "closed"),
        Check("channel store ready", facts.leases_ready,
              "ready" if facts.leases_ready
              else "no leases in Redis yet (new or wiped): the next tick rebuilds them "
                   "from PostgreSQL"),
    ]


def will_dial(checks: list[Check]) -> bool:
    return all(check.ok for check in checks)


def _status_check(facts: ReadinessFacts) -> Check:
    if facts.status == st.CampaignStatus.RUNNING:
        return Check("running", True, "running")
    if facts.status == st.CampaignStatus.PAUSED:
        reason = f" ({facts.pause_reason})" if facts.pause_reason else ""
        return Check("running", False, f"paused{reason}: resume it")
    if facts.status == st.CampaignStatus.SCHEDULED and facts.scheduled_at is not None:
        return Check("running", False, f"scheduled: starts by itself at "
                                       f"{facts.scheduled_at.isoformat()}")
    if facts.status == st.CampaignStatus.DRAFT:
        return Check("running", False, "draft: start it")
    return Check("running", False, f"{facts.status}: nothing more will be dialed")


def _caller_id_check(facts: ReadinessFacts) -> Check:
    if not facts.numbers_listed:
        # Not a blocker: the provider then uses its own default caller ID.
        return Check("caller IDs", True, "none listed: the provider's default caller ID")
    return Check("caller IDs", facts.numbers_active > 0,
                 f"{facts.numbers_active} of {facts.numbers_listed} numbers active")


def _channels_check(facts: ReadinessFacts) -> Check:
    if facts.org_channel_cap <= 0:
        return Check("channels", False, "organisation cap is 0 (DIALER_ORG_CHANNEL_CAP)")
    if facts.channels <= 0:
        return Check("channels", False, "0 channels allocated: allocate_channels")
    return Check("channels", True, f"{facts.channels} allocated "
                                   f"(organisation cap {facts.org_channel_cap})")


def _window_check(facts: ReadinessFacts) -> Check:
    if facts.zones_sampled == 0:
        return Check("window open now", False, "no waiting contact to read a window for")
    if facts.zones_open:
        return Check("window open now", True,
                     f"open for {facts.zones_open} of {facts.zones_sampled} contact time zones")
    when = facts.next_opening.isoformat() if facts.next_opening else "not within a year"
    reason = f" ({facts.closed_reason})" if facts.closed_reason else ""
    return Check("window open now", False, f"closed{reason}; next opening {when}")
