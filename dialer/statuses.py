"""Status vocabularies (docs/contract.md §6): one ``StrEnum`` each.

Members are ``str``: they compare equal to the words stored in PostgreSQL and
bind as those words in SQL parameters. The groups below the enums are the only
definitions of "due", "open", "in flight" and "holding a channel".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"


CAMPAIGN_STATUSES: Final = tuple(CampaignStatus)
CAMPAIGN_TERMINAL: Final = frozenset({CampaignStatus.COMPLETED, CampaignStatus.STOPPED,
                                      CampaignStatus.FAILED})


class ParticipantStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    DIALING = "dialing"
    RETRY_SCHEDULED = "retry_scheduled"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED_DNC = "skipped_dnc"
    SKIPPED = "skipped"
    CANCELED = "canceled"


# Waiting for the tick to pick them (when their next_attempt_at is due).
PARTICIPANT_DUE: Final = (ParticipantStatus.PENDING, ParticipantStatus.RETRY_SCHEDULED)
PARTICIPANT_OPEN: Final = (ParticipantStatus.PENDING, ParticipantStatus.QUEUED,
                           ParticipantStatus.DIALING, ParticipantStatus.RETRY_SCHEDULED)
PARTICIPANT_TERMINAL: Final = (ParticipantStatus.COMPLETED, ParticipantStatus.FAILED,
                               ParticipantStatus.SKIPPED_DNC, ParticipantStatus.SKIPPED,
                               ParticipantStatus.CANCELED)


class CallStatus(StrEnum):
    """A call row's own state machine: queued -> dialing -> placed -> ended."""

    QUEUED = "queued"
    DIALING = "dialing"
    PLACED = "placed"
    ENDED = "ended"


CALL_IN_FLIGHT: Final = (CallStatus.QUEUED, CallStatus.DIALING, CallStatus.PLACED)
# A call holds a channel lease from its claim until its result (or deadline).
CALL_HOLDING_CHANNEL: Final = (CallStatus.DIALING, CallStatus.PLACED)


class Outcome(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    FAILED = "failed"


OUTCOMES: Final = tuple(Outcome)


class EventSource(StrEnum):
    SYSTEM = "system"
    MANUAL = "manual"
    API = "api"


EVENT_SOURCES: Final = tuple(EventSource)
