"""May this contact be called now? One function, used by the tick when it
picks contacts and again right before ``place_call`` (ARCHITECTURE.md, "The flow")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.calendar import CallingRules
from dialer.statuses import ParticipantStatus


@dataclass(frozen=True)
class Verdict:
    action: str  # "call" | "defer" | "skip"
    reason: str | None = None
    until: datetime | None = None  # defer: the next instant worth looking again
    status: str | None = None  # skip: the participant's terminal status

    @property
    def callable(self) -> bool:
        return self.action == "call"


CALL = Verdict("call")


@dataclass(frozen=True)
class ContactFacts:
    zones: tuple[str, ...]
    guard_zones: tuple[str, ...]
    on_dnc: bool = False
    recently_completed: bool = False
    cap_reached_until: datetime | None = None  # frequency caps across campaigns


def recently_completed_since(now: datetime, hours: float | None) -> datetime | None:
    """Where ``skip_recently_completed_hours`` looks back to; None when it is off."""
    return now - timedelta(hours=hours) if hours else None


def check_contact(
    *, now: datetime, rules: CallingRules, facts: ContactFacts, respect_dnc: bool
) -> Verdict:
    if respect_dnc and facts.on_dnc:
        return Verdict("skip", "dnc", status=ParticipantStatus.SKIPPED_DNC)
    if facts.recently_completed:
        return Verdict("skip", "recently_completed", status=ParticipantStatus.SKIPPED)
    if facts.cap_reached_until is not None and facts.cap_reached_until > now:
        return Verdict("defer", "frequency_cap", until=facts.cap_reached_until)
    reason = rules.closed_reason(now, facts.zones, facts.guard_zones)
    if reason is None:
        return CALL
    opening = rules.next_opening(now, facts.zones, facts.guard_zones)
    if opening is None:
        # The calendar never opens again for this contact (end_date passed).
        return Verdict("skip", reason, status=ParticipantStatus.SKIPPED)
    return Verdict("defer", reason, until=opening)
