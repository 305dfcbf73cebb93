"""Status vocabularies (CONTRACT §5-§6) as plain string constants."""

from __future__ import annotations

from typing import Final

# Campaign statuses.
DRAFT: Final = "draft"
SCHEDULED: Final = "scheduled"
RUNNING: Final = "running"
PAUSED: Final = "paused"
COMPLETED: Final = "completed"
STOPPED: Final = "stopped"
FAILED: Final = "failed"
CAMPAIGN_STATUSES: Final = (DRAFT, SCHEDULED, RUNNING, PAUSED, COMPLETED, STOPPED, FAILED)
CAMPAIGN_TERMINAL: Final = frozenset({COMPLETED, STOPPED, FAILED})


class Participant:
    PENDING: Final = "pending"
    QUEUED: Final = "queued"
    DIALING: Final = "dialing"
    RETRY_SCHEDULED: Final = "retry_scheduled"
    COMPLETED: Final = "completed"
    FAILED: Final = "failed"
    SKIPPED_DNC: Final = "skipped_dnc"
    SKIPPED: Final = "skipped"
    CANCELED: Final = "canceled"

    ALL: Final = (PENDING, QUEUED, DIALING, RETRY_SCHEDULED, COMPLETED, FAILED, SKIPPED_DNC,
                  SKIPPED, CANCELED)
    # Waiting for the tick to pick them.
    DUE: Final = (PENDING, RETRY_SCHEDULED)
    OPEN: Final = (PENDING, QUEUED, DIALING, RETRY_SCHEDULED)
    TERMINAL: Final = (COMPLETED, FAILED, SKIPPED_DNC, SKIPPED, CANCELED)


class Call:
    """A call row's own state machine: queued -> dialing -> placed -> ended."""

    QUEUED: Final = "queued"
    DIALING: Final = "dialing"
    PLACED: Final = "placed"
    ENDED: Final = "ended"
    IN_FLIGHT: Final = (QUEUED, DIALING, PLACED)
    HOLDING_CHANNEL: Final = (DIALING, PLACED)


class Outcome:
    ANSWERED: Final = "answered"
    NO_ANSWER: Final = "no_answer"
    BUSY: Final = "busy"
    VOICEMAIL: Final = "voicemail"
    FAILED: Final = "failed"
    ALL: Final = (ANSWERED, NO_ANSWER, BUSY, VOICEMAIL, FAILED)


EVENT_SOURCES: Final = ("system", "manual", "api")
