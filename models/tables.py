"""Tables: PostgreSQL is the source of truth for everything that must survive.

Every timestamp is simulated time from the dialer's clock, never the
database's ``now()``, so that accelerated runs stay consistent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# The expression of migration 0004: any JSON gives a count and never an error, since
# a stored spec that no longer parses (service/isolation.py) must stay writable.
CHANNELS_FROM_SPEC = (
    "CASE WHEN jsonb_typeof(spec -> 'pacing' -> 'channels') = 'number' "
    "THEN LEAST(GREATEST((spec -> 'pacing' ->> 'channels')::numeric, 0), 2147483647)::integer "
    "ELSE 0 END")


# The organisation `default` (migration 0005): what a caller that names no organisation
# acts for, so everything written before organisations keeps working unchanged.
DEFAULT_ORG_NAME = "default"


class Organisation(Base):
    """A tenant: it owns campaigns, audiences, caller IDs, its DNC list and rejected
    requests, and never sees another's. Its channel cap bounds its calls in flight."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # NULL: follows DIALER_ORG_CHANNEL_CAP (so `default` keeps the cap it always had).
    channel_cap: Mapped[int | None] = mapped_column(Integer)
    # Signs provider webhooks (POST /v1/calls/{id}/result): a shared secret, so it is
    # kept as it is (an HMAC needs it), unlike API keys.
    webhook_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class ApiKey(Base):
    """An API key, kept only as its SHA-256: the key itself is shown once, at creation.

    ``prefix`` is the key's visible start (``dk_<8 hex>``), unique, so a leaked key can be
    identified and revoked, and a presented key finds its row without comparing hashes
    against every row."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                        index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A person signed in to the web console with an API key. The browser's cookie holds
    a random token; only its SHA-256 is kept. Signing out or revoking the key deletes
    the row; past ``expires_at`` it signs nothing in (and goes at the key's next
    sign-in)."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


def _org_fk() -> Any:
    return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("org_id", "number", name="uq_phone_numbers_org_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = _org_fk()
    number: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(100))
    cps: Mapped[float | None] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Removed by the organisation (0011): kept, since calls name it as their from_number
    # and campaigns by id; gone from every list and check, and inactive. Added again,
    # the same row comes back.
    removed_at: Mapped[datetime | None]


class Audience(Base):
    __tablename__ = "audiences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = _org_fk()
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("audience_id", "phone", name="uq_contacts_audience_phone"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    audience_id: Mapped[str] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secondary_phones: Mapped[list[Any]] = mapped_column(default=list)
    # Taken out of the audience (0006): kept, so its calls and campaign history stay.
    removed_at: Mapped[datetime | None]


class DncEntry(Base):
    __tablename__ = "dnc"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                        primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    added_at: Mapped[datetime]


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        # Unique per organisation so that concurrent enqueue_campaign calls create one
        # campaign, and one organisation's external ids never collide with another's.
        UniqueConstraint("org_id", "external_id", name="uq_campaigns_org_external_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = _org_fk()
    name: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(String(200))
    audience_id: Mapped[str | None] = mapped_column(ForeignKey("audiences.id", ondelete="SET NULL"))
    phone_number_ids: Mapped[list[Any]] = mapped_column(default=list)
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), index=True)
    pause_reason: Mapped[str | None] = mapped_column(String(100))
    scheduled_at: Mapped[datetime | None]
    timezone: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    external_id: Mapped[str | None] = mapped_column(String(200))
    # The Celery task id of the dialer.enqueue_campaign that created it: a
    # redelivered request without external_id finds this campaign (0002).
    request_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Generated from spec.pacing.channels, the one source (0004): read-only here, so
    # that views, metrics and readiness read the count without parsing JSON (the
    # hot path takes it from the cached spec); allocate_channels writes the spec.
    channels: Mapped[int] = mapped_column(Integer, Computed(CHANNELS_FROM_SPEC, persisted=True))
    breaker_open: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_id_cursor: Mapped[int] = mapped_column(Integer, default=0)
    next_free_slot_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    # Consecutive failed dispatches (tick, refill, sweep); see service/isolation.py.
    dispatch_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Why and when the campaign failed (0006); NULL unless status is failed.
    error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None]
    # Since when the running campaign has had no active caller ID (0009_numbers); NULL
    # while it has one. Past DIALER_FAIL_NO_CALLER_ID_AFTER_S of it, the campaign fails.
    no_caller_id_since: Mapped[datetime | None]


class Participant(Base):
    """A contact inside a campaign: the unit the dialer drives to a terminal status."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_participants_campaign_contact"),
        # id included (0008_analytics): the analytics join a campaign's participants to
        # its calls by id and read their status, from this index alone.
        Index("ix_participants_due", "campaign_id", "status", "next_attempt_at",
              postgresql_include=["id"]),
        # The tick's query: waiting participants of one campaign, oldest due first.
        # Partial and in ORDER BY order, so LIMIT stops after the batch however
        # large the audience (no sort of 200,000 pending rows per tick).
        Index("ix_participants_waiting", "campaign_id", "next_attempt_at", "id",
              postgresql_where=text("status IN ('pending', 'retry_scheduled')")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A recurring campaign dials everyone again each period: attempts restart
    # at 0 in a new cycle, and a call is unique per (participant, cycle, attempt).
    cycle: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_attempt_at: Mapped[datetime | None]
    skip_reason: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime | None]
    # Which of the contact's numbers is dialed (0006): 0 the primary, k the k-th of
    # secondary_phones; phone_attempts counts this cycle's attempts on that number
    # (attempts stays the cycle's total); answered_phone is the number that answered.
    phone_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    phone_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    answered_phone: Mapped[str | None] = mapped_column(String(20))


class Call(Base):
    """One attempt. ``UNIQUE(participant_id, cycle, attempt)`` makes a second
    call for the same attempt impossible, whatever Celery redelivers."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("participant_id", "cycle", "attempt",
                         name="uq_calls_participant_attempt"),
        Index("ix_calls_campaign_status", "campaign_id", "status"),
        Index("ix_calls_status_deadline", "status", "deadline_at"),
        # Covering (0008_analytics; cycle since 0012, for the executions' count per
        # cycle): every analytics aggregation reads a campaign's calls from this index
        # alone (an index-only scan once vacuumed). It replaced the plain (campaign_id,
        # placed_at) index rather than adding one, so a call's writes update as many
        # indexes as before (bench/RESULTS.md, issue 14).
        Index("ix_calls_campaign_placed", "campaign_id", "placed_at",
              postgresql_include=["participant_id", "execution_number", "attempt",
                                  "from_number", "outcome", "goal_achieved", "cycle"]),
        Index("ix_calls_phone_placed", "to_number", "placed_at"),
        # The call log's order (0007_calls): a page of a campaign's calls, filtered by
        # when they were queued, stops after the page instead of sorting every call.
        Index("ix_calls_campaign_queued", "campaign_id", "queued_at", "attempt", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigInteger)
    execution_number: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(20))
    provider_call_id: Mapped[str | None] = mapped_column(String(200))
    queued_at: Mapped[datetime]
    dispatch_at: Mapped[datetime]
    placed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(String(20))
    duration_s: Mapped[float | None] = mapped_column(Float)
    goal_achieved: Mapped[bool | None] = mapped_column(Boolean)
    detail: Mapped[str | None] = mapped_column(Text)
    # Reported by the provider with its result, when it has them (0006).
    recording_url: Mapped[str | None] = mapped_column(Text)
    transcript_url: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_campaign_id", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)


class Execution(Base):
    """One run, from start/resume to pause/stop/completion."""

    __tablename__ = "executions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "execution_number", name="uq_executions_campaign_number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    execution_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    total_members: Mapped[int] = mapped_column(Integer)


class SkipRecord(Base):
    """Every time a contact is passed over, and why: evidence for compliance reviews."""

    __tablename__ = "skips"
    __table_args__ = (Index("ix_skips_campaign_id", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)


class RejectedRequest(Base):
    """Remote requests that failed validation, kept so a person can list them."""

    __tablename__ = "rejected_requests"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # NULL when the request named an organisation that does not exist: still kept, for
    # the operator (`dialer requests rejected` of no organisation lists them).
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    task: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(200))
    errors: Mapped[list[Any]]
    payload: Mapped[dict[str, Any]]
    # The task id: a redelivered bad request is recorded once (0002).
    request_id: Mapped[str | None] = mapped_column(String(255), unique=True)


class AppliedCommand(Base):
    """A dialer.campaign_command already carried out, by task id (0002).

    Inserted in the transaction of the command itself, so a redelivered command
    (same task id) is refused: a resume replayed after the operator paused the
    campaign again cannot restart it.
    """

    __tablename__ = "applied_commands"

    command_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    command: Mapped[str] = mapped_column(String(40))
    applied_at: Mapped[datetime]
