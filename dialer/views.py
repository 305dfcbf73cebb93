"""What the client returns (docs/contract.md §2, §8): pydantic models, the contract's fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class View(BaseModel):
    """A returned record: attributes, ``model_dump(mode="json")``, and ``view["field"]``
    (so ``client.get(id)["campaign"]["status"]`` reads as the contract writes it)."""

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in type(self).model_fields else default


class PhoneNumberView(View):
    id: str
    number: str
    provider: str
    is_active: bool
    cps: float | None = None


class RejectedContact(View):
    index: int
    phone: Any = None
    error: str


class AudienceView(View):
    id: str
    name: str
    count: int
    rejected: list[RejectedContact] = Field(default_factory=list)


class RejectedRow(View):
    row: int
    error: str


class ImportReport(View):
    imported: int
    rejected: list[RejectedRow] = Field(default_factory=list)


class ExecutionView(View):
    execution_number: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    total_members: int
    processed_members: int
    failed_members: int


class CampaignView(View):
    id: str
    name: str
    description: str | None
    status: str
    pause_reason: str | None
    agent_id: str | None
    audience_id: str | None
    phone_number_ids: list[str]
    scheduled_at: datetime | None
    timezone: str
    priority: int
    external_id: str | None
    channels: int
    breaker_open: bool
    created_at: datetime
    updated_at: datetime
    spec: dict[str, Any]
    executions: list[ExecutionView] = Field(default_factory=list)
    # Why and when the campaign failed (status ``failed``; docs/contract.md §6), else None.
    error: str | None = None
    failed_at: datetime | None = None


class Metrics(View):
    total_participants: int
    contacts_called: int
    contacts_connected: int
    calls_placed: int
    in_progress: int
    channels_in_use: int
    outcomes: dict[str, int]
    by_status: dict[str, int]


class CampaignDetail(View):
    campaign: CampaignView
    metrics: Metrics


class ParticipantView(View):
    """A contact inside a campaign. ``phone`` is the number being dialed (the primary, or
    the ``phone_index``-th secondary); ``attempts`` counts this cycle's calls,
    ``phone_attempts`` those on this number."""

    contact_id: int
    phone: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_outcome: str | None
    name: str | None = None
    phone_index: int = 0
    phone_attempts: int = 0
    answered_phone: str | None = None
    last_attempt_at: datetime | None = None
    skip_reason: str | None = None
    cycle: int = 0


class CallView(View):
    """One call attempt. ``phone`` is the number dialed; ``phone_index`` says which of the
    contact's numbers it is (0 the primary, k the k-th secondary; null when it is no
    longer among them). ``cost`` is the provider's, as a float (stored exactly: the CSV
    export writes the stored digits)."""

    call_id: str
    contact_id: int
    phone: str
    from_number: str | None
    attempt: int
    placed_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    duration_s: float | None
    status: str = "queued"
    goal_achieved: bool | None = None
    detail: str | None = None
    provider_call_id: str | None = None
    phone_index: int | None = None
    cycle: int = 0
    execution_number: int = 1
    queued_at: datetime | None = None
    recording_url: str | None = None
    transcript_url: str | None = None
    cost: float | None = None


class EventView(View):
    at: datetime
    source: str
    action: str
    detail: str | None


class SkipView(View):
    at: datetime
    contact_id: int
    phone: str
    reason: str
    detail: str | None


class Forecast(View):
    calls_per_hour: float
    eta: datetime | None
    # eta is None when not done within this many days (dialer.forecast.HORIZON).
    horizon_days: int
    # Why no call would be placed (calls_per_hour 0), else None.
    no_calls_reason: str | None = None


class CheckView(View):
    name: str
    ok: bool
    detail: str


class ReadinessView(View):
    """"Will it dial?" for one campaign, at the dialer's now."""

    campaign_id: str
    at: datetime
    will_dial: bool
    checks: list[CheckView]


class AudienceSummary(View):
    id: str
    name: str
    count: int
    created_at: datetime


class AudienceMember(View):
    """A contact of an audience (its id is the contact's)."""

    id: int
    phone: str
    name: str | None
    timezone: str | None
    attributes: dict[str, Any]


class AudienceMembersPage(View):
    members: list[AudienceMember]
    total: int


class CampaignRef(View):
    """A campaign named where a whole view would be too much (an audience's campaigns)."""

    id: str
    name: str
    status: str
    created_at: datetime


class CampaignFacts(View):
    """Counts a campaign's summary shows besides its view: participants, calls placed
    after a first attempt, contacts a stop canceled, its last pause and failure."""

    participants: int = 0
    retry_attempts: int = 0
    cancelled: int = 0
    paused_at: datetime | None = None
    failed_at: datetime | None = None
    error: str | None = None
    audience_name: str | None = None
    # Contacts with a call placed (``Metrics.contacts_called``), for a list's progress.
    contacts_called: int = 0


class CampaignPage(View):
    campaigns: list[CampaignView]
    matching: int
    total: int


class DncEntryView(View):
    phone: str
    added_at: datetime


class DncPage(View):
    entries: list[DncEntryView]
    total: int


class ActivityEvent(View):
    id: int
    at: datetime
    source: str
    action: str
    detail: str | None


class ActivitySkip(View):
    id: int
    at: datetime
    reason: str
    detail: str | None
    contact_id: int
    phone: str


class ActivityPlaced(View):
    call_id: str
    contact_id: int
    phone: str
    from_number: str | None
    attempt: int
    at: datetime


class ActivityEnded(View):
    """An ended call; ``retrying``: its contact is still open (another attempt comes)."""

    call_id: str
    contact_id: int
    attempt: int
    outcome: str
    duration_s: float | None
    goal_achieved: bool | None
    at: datetime
    retrying: bool
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class ActivityCursor:
    """Where a reader of ``campaign_activity`` is: events and skips after these ids,
    calls placed / ended at or after these instants (None: from the first)."""

    events_after: int = 0
    skips_after: int = 0
    placed_since: datetime | None = None
    ended_since: datetime | None = None


class CampaignActivity(View):
    """What happened in a campaign after a cursor, each list in position order.
    ``status`` is read first (rows committed with a terminal status are then among the
    rows); None once the campaign is deleted."""

    status: str | None
    events: list[ActivityEvent]
    skips: list[ActivitySkip]
    placed: list[ActivityPlaced]
    ended: list[ActivityEnded]


class HealthView(View):
    postgres: bool
    redis: bool


class RejectedRequestView(View):
    id: int
    at: datetime
    task: str
    external_id: str | None
    errors: list[Any]
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class OrgRef:
    """The organisation a caller acts for (``DialerClient(org=...)``, an API key).

    ``channel_cap`` is the effective cap: the organisation's own, or
    DIALER_ORG_CHANNEL_CAP when it has none."""

    id: str
    name: str
    channel_cap: int


class OrganisationView(View):
    id: str
    name: str
    # None: follows DIALER_ORG_CHANNEL_CAP; ``effective_channel_cap`` is what applies.
    channel_cap: int | None
    effective_channel_cap: int
    created_at: datetime


class ApiKeyView(View):
    id: str
    org: str
    prefix: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# --- calls ---


class ParticipantPage(View):
    """One page of a campaign's participants that match the filters, by contact id;
    ``total`` counts every match."""

    items: list[ParticipantView]
    total: int
    page: int
    limit: int


class CallPage(View):
    """One page of a campaign's calls that match the filters, in the order they were
    queued; ``total`` counts every match."""

    items: list[CallView]
    total: int
    page: int
    limit: int


class ContactResult(View):
    """A contact's result in a campaign (the per-contact export): ``attempts`` counts its
    calls of every cycle and number; the totals sum what the calls reported (null when
    none reported any); ``goal_achieved`` is true when any call achieved it. ``calls``
    (the contact's calls, in order) only when asked for, else null."""

    contact_id: int
    phone: str
    name: str | None
    attributes: dict[str, Any] = Field(default_factory=dict)
    status: str
    last_outcome: str | None
    answered_phone: str | None
    attempts: int
    total_duration_s: float | None
    total_cost: float | None
    goal_achieved: bool | None
    last_attempt_at: datetime | None
    calls: list[CallView] | None = None


# --- analytics (issue 14) ---------------------------------------------------------------


class FunnelStep(View):
    """One step of the funnel: its count, as a percentage (0 to 100) of the campaign's
    contacts and of the step before it (0 when that is 0)."""

    name: str
    count: int
    pct_of_total: float
    pct_of_previous: float


class FunnelView(View):
    """Contacts → scheduled → dialed → connected → goal achieved (docs/contract.md,
    "Analytics", defines each step); ``called_pct`` and ``connected_pct`` are dialed and
    connected as percentages of ``total``."""

    campaign_id: str
    total: int
    scheduled: int
    dialed: int
    connected: int
    goal_achieved: int
    called_pct: float
    connected_pct: float
    steps: list[FunnelStep]


class HeatmapCell(View):
    """Calls placed in one local hour of one day of the week (``dow`` 0 = Monday,
    ``day`` its name as the spec writes days), and the share answered (0 to 1)."""

    dow: int
    day: str
    hour: int
    placed: int
    answered: int
    answer_rate: float


class HeatmapView(View):
    """The week's 168 cells, Monday 00h first, in the campaign's time zone ``timezone``."""

    campaign_id: str
    timezone: str
    placed: int
    answered: int
    cells: list[HeatmapCell]


class PickupRow(View):
    """Calls placed and answered for one attempt number or one caller ID (``key``), and
    ``rate``, the share answered (0 to 1)."""

    key: str
    placed: int
    answered: int
    rate: float


class ExecutionRun(View):
    """One execution with its duration (to now while it runs), calls placed and
    progress: ``processed_members`` of ``total_members`` as ``progress_pct`` (0 to 100)."""

    execution_number: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    total_members: int
    processed_members: int
    failed_members: int
    calls_placed: int
    progress_pct: float


class ExecutionSummary(View):
    """A campaign's executions, how many there are per status, and each run."""

    campaign_id: str
    total: int
    running: int
    paused: int
    stopped: int
    completed: int
    failed: int
    executions: list[ExecutionRun]
