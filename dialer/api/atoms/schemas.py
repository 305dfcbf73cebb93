"""The Atoms API's shapes (docs/atoms.md): camelCase on the wire, ``_id`` for ids.

Requests and responses follow the public Atoms OpenAPI document field for
field; the bounds it states (``maxRetries`` 0-10, ``retryDelay`` 1-1440, page
sizes) are checked here. Our settings Atoms has no field for are the
*extensions*: the sections of our CampaignSpec in camelCase, checked by
CampaignSpec itself (mapping.py turns its dotted paths back into these names).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from dialer.views import Metrics

T = TypeVar("T")

# How Atoms shows a campaign's status (mapping.ATOMS_STATUS is the translation).
AtomsStatus = Literal["draft", "scheduled", "processing", "running", "paused", "completed",
                      "failed", "cancelled"]
SortOrder = Literal["asc", "desc"]

EXAMPLE_ID = "0b5c1f9e-6a55-4b8e-9d0c-2f4b7f1d3a10"
EXAMPLE_AUDIENCE_ID = "5e0c2a44-2f1d-4f4e-8b3a-6c1d9e7f0a21"
EXAMPLE_NUMBER_ID = "9a7d3c11-0e2b-4c5d-8f6a-1b2c3d4e5f60"


class _In(BaseModel):
    """A request body: camelCase names (snake_case also read), unknown fields refused so
    that a misspelt extension is an error rather than a silently ignored setting."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# -- envelopes ---------------------------------------------------------------------


class Envelope(_Out, Generic[T]):
    status: bool = True
    data: T


class StatusOnly(_Out):
    status: bool = True


class ErrorEnvelope(_Out):
    """Every error under /atoms/v1: a list of messages, ``field: reason`` for bad input."""

    status: bool = False
    errors: list[str] = Field(examples=[["retryDelay: Input should be less than or equal to "
                                         "1440"]])


# -- campaign extensions (our spec sections, camelCase) ------------------------------


class CallWindowIn(_In):
    start: str | None = Field(default=None, examples=["09:00"])
    end: str | None = Field(default=None, examples=["18:00"])


class PacingIn(_In):
    preset: str | None = Field(default=None, examples=["balanced"])
    channels: int | None = Field(default=None, examples=[5])
    calls_per_minute: int | None = None
    spacing_seconds: float | None = None
    daily_limit: int | None = None


class CallHandlingIn(_In):
    ring_timeout_s: int | None = Field(default=None, examples=[30])
    max_duration_s: int | None = Field(default=None, examples=[600])


class RetryIn(_In):
    """Our retry settings beyond Atoms' ``maxRetries``/``retryDelay`` (top level)."""

    cooldown_hours: float | None = None
    not_picked_cooldown_hours: float | None = None
    retry_on_voicemail: bool | None = None
    goal_based: bool | None = None


class CircuitBreakerIn(_In):
    enabled: bool | None = None
    failure_rate: float | None = None
    min_calls: int | None = None
    window: int | None = None


class SafetyIn(_In):
    respect_dnc: bool | None = None
    business_hours_guard: bool | None = None
    circuit_breaker: CircuitBreakerIn | None = None
    skip_recently_completed_hours: float | None = None


class CampaignExtensions(_In):
    """What Atoms has no field for. Schedule fields sit at the top level, like Atoms'
    own ``scheduledAt``; the other sections keep our spec's nesting."""

    timezone: str | None = Field(default=None, examples=["America/New_York"])
    priority: int | None = None
    external_id: str | None = None
    call_window: CallWindowIn | None = None
    allowed_days: list[str] | None = Field(default=None, examples=[["mon", "tue", "wed"]])
    holidays: list[date] | None = None
    holiday_country: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    contact_local_time: bool | None = None
    recurrence: str | None = None
    pacing: PacingIn | None = None
    call_handling: CallHandlingIn | None = None
    retry: RetryIn | None = None
    safety: SafetyIn | None = None


class CampaignCreate(CampaignExtensions):
    """``POST /campaign``: Atoms' body, plus the extensions."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "January Outreach", "agentId": "agent-1", "audienceId": EXAMPLE_AUDIENCE_ID,
        "phoneNumberIds": [EXAMPLE_NUMBER_ID], "maxRetries": 2, "retryDelay": 30,
        "callWindow": {"start": "09:00", "end": "18:00"}, "timezone": "America/New_York",
        "pacing": {"channels": 5, "callsPerMinute": 20}}]})

    name: str = Field(examples=["My Campaign"])
    description: str | None = None
    audience_id: str
    agent_id: str
    phone_number_ids: list[str] | None = None
    scheduled_at: datetime | None = None
    max_retries: int = Field(default=3, ge=0, le=10)
    retry_delay: int = Field(default=15, ge=1, le=1440)


# -- campaign responses ----------------------------------------------------------


class Ref(_Out):
    id: str = Field(alias="_id")
    name: str | None = None


class AgentRef(Ref):
    workflow_type: str | None = None


class ExecutionOut(_Out):
    execution_number: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    total_members: int
    processed_members: int
    failed_members: int


class CampaignFields(_Out):
    """What every campaign shape carries (create, list item, get)."""

    id: str = Field(alias="_id", examples=[EXAMPLE_ID])
    name: str
    description: str | None = None
    organization: str
    created_by: str | None = None
    participants_count: int
    status: AtomsStatus
    max_retries: int
    retry_delay: int | float
    retry_attempts: int
    scheduled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # Extensions: the rest of our spec, as the create body takes it.
    phone_number_ids: list[str] = Field(default_factory=list)
    pause_reason: str | None = None
    settings: CampaignExtensions | None = Field(
        default=None,
        description="Extension: the campaign's settings Atoms has no field for, in the "
        "create body's shape (copy them into a create body to get the same campaign).")


class CampaignCreated(CampaignFields):
    """As Atoms answers a create: the agent and audience as plain ids."""

    agent_id: str | None = None
    audience_id: str | None = None


class CampaignOut(CampaignFields):
    """As Atoms answers a list or a get: the agent and audience as objects."""

    agent: AgentRef | None = None
    audience: Ref | None = None
    paused_at: datetime | None = None
    cancelled_calls_count: int = 0
    error: str | None = None
    failed_at: datetime | None = None
    executions: list[ExecutionOut] = Field(default_factory=list)


class Pagination(_Out):
    total: int
    page: int
    offset: int
    has_more: bool
    total_pages: int


class CampaignList(_Out):
    campaigns: list[CampaignOut]
    pagination: Pagination
    total_campaign_count: int


class EventOut(_Out):
    id: str = Field(alias="_id")
    trigger_source: str
    event_action: str
    detail: str | None = None
    created_at: datetime
    updated_at: datetime


class CampaignDetailOut(_Out):
    campaign: CampaignOut
    events: list[EventOut]
    # Atoms' metrics are snake_case (its three counts), and so are the rest of ours.
    metrics: Metrics


class StartedOut(_Out):
    message: str = "Campaign is being processed"
    task_id: str
    campaign_id: str


# -- audiences ----------------------------------------------------------------------


class AudienceCampaign(_Out):
    id: str = Field(alias="_id")
    name: str
    status: AtomsStatus
    created_at: datetime


class AudienceOut(_Out):
    id: str = Field(alias="_id", examples=[EXAMPLE_AUDIENCE_ID])
    name: str
    description: str | None = None
    phone_number_column_name: str = "phoneNumber"
    organization: str
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    member_count: int


class AudienceListItem(AudienceOut):
    has_campaigns: bool
    campaigns: list[AudienceCampaign]


class RejectedRowOut(_Out):
    row: int
    error: str


class AudienceCreated(AudienceOut):
    identifier_column_name: str | None = None
    rejected: list[RejectedRowOut] = Field(
        default_factory=list, description="Extension: CSV rows not imported, and why "
        "(rows are numbered as a spreadsheet shows them, the header is row 1).")


class MemberOut(_Out):
    id: str = Field(alias="_id")
    data: dict[str, Any] = Field(examples=[{"phoneNumber": "+14155550123",
                                            "firstName": "John"}])


class MembersPage(_Out):
    members: list[MemberOut]
    total_count: int
    total_pages: int
    has_more: bool


class MembersAdd(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"members": [
        {"phoneNumber": "+14155550123", "name": "John Doe", "plan": "gold"},
        {"phoneNumber": "+14155550124", "name": "Jane Roe"}]}]})
    members: list[dict[str, Any]] = Field(
        examples=[[{"phoneNumber": "+14155550123", "name": "John Doe"}]])


class MembersDelete(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"memberIds": ["17", "18"]}]})
    member_ids: list[str] = Field(examples=[["17", "18"]])


class AddedCounts(_Out):
    added: int
    skipped: int
    rejected: list[RejectedRowOut] = Field(
        default_factory=list, description="Extension: members not added, and why "
        "(row 1 is the first member).")


class MembersAdded(_Out):
    message: str
    data: AddedCounts


class DeletedCount(_Out):
    deleted_count: int


class SearchInfo(_Out):
    search_type: Literal["general", "multiple"]
    search_term: str
    search_fields: list[str]
    total_results: int


class SearchResult(_Out):
    members: list[MemberOut]
    search_info: SearchInfo


# -- phone numbers, DNC ------------------------------------------------------------


class PhoneAttributes(_Out):
    provider: str
    phone_number: str
    country_code: str | None = None


class PhoneNumberOut(_Out):
    id: str = Field(alias="_id", examples=[EXAMPLE_NUMBER_ID])
    product_type: Literal["telephony"] = "telephony"
    is_active: bool
    agent_id: str | None = None
    attributes: PhoneAttributes


class DncEntryOut(_Out):
    id: str
    agent_id: str | None = None
    org_id: str
    phone_number: str
    source: str = "manual"
    detected_in_call_id: str | None = None
    created_at: datetime
    updated_at: datetime


class DncPage(_Out):
    entries: list[DncEntryOut]
    pagination: Pagination


# -- response examples (the OpenAPI document's) --------------------------------------
# Written by field name and passed through the response models, so an example cannot
# drift from the shape it illustrates: a field renamed or removed fails at import.

EXAMPLE_ORG_ID = "3f2a9c10-7b4d-4e21-9a8e-5d6c7b8a9f01"
EXAMPLE_AT = "2026-01-05T14:30:00Z"

_CAMPAIGN = {
    "id": EXAMPLE_ID, "name": "January Outreach", "description": "Renewal reminders",
    "organization": EXAMPLE_ORG_ID, "participants_count": 250, "status": "running",
    "max_retries": 2, "retry_delay": 30, "retry_attempts": 12, "created_at": EXAMPLE_AT,
    "updated_at": EXAMPLE_AT, "phone_number_ids": [EXAMPLE_NUMBER_ID],
    "settings": {"timezone": "America/New_York",
                 "call_window": {"start": "09:00", "end": "18:00"},
                 "pacing": {"channels": 5, "calls_per_minute": 20}}}
_CAMPAIGN_OUT = {
    **_CAMPAIGN, "agent": {"id": "agent-1"},
    "audience": {"id": EXAMPLE_AUDIENCE_ID, "name": "January renewals"},
    "executions": [{"execution_number": 1, "status": "running", "started_at": EXAMPLE_AT,
                    "ended_at": None, "total_members": 250, "processed_members": 112,
                    "failed_members": 3}]}
_AUDIENCE = {
    "id": EXAMPLE_AUDIENCE_ID, "name": "January renewals", "organization": EXAMPLE_ORG_ID,
    "created_at": EXAMPLE_AT, "updated_at": EXAMPLE_AT, "member_count": 250}
_MEMBER = {"id": "17", "data": {"phoneNumber": "+14155550123", "name": "John Doe",
                                "firstName": "John", "plan": "gold"}}
_PAGINATION = {"total": 12, "page": 1, "offset": 5, "has_more": True, "total_pages": 3}


def _shown(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    return model.model_validate(data).model_dump(mode="json", by_alias=True)


def example(status: int, model: type[BaseModel], data: dict[str, Any]
            ) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry: ``status`` answers ``data`` as ``model`` shows it."""
    return {status: {"content": {"application/json": {"example": _shown(model, data)}}}}


CAMPAIGN_LIST_EXAMPLE = {"data": {
    "campaigns": [_CAMPAIGN_OUT], "pagination": _PAGINATION, "total_campaign_count": 12}}
CAMPAIGN_CREATED_EXAMPLE = {"data": {
    **_CAMPAIGN, "status": "draft", "participants_count": 250, "retry_attempts": 0,
    "agent_id": "agent-1", "audience_id": EXAMPLE_AUDIENCE_ID}}
CAMPAIGN_DETAIL_EXAMPLE = {"data": {
    "campaign": _CAMPAIGN_OUT,
    "events": [{"id": "1", "trigger_source": "api", "event_action": "created",
                "created_at": EXAMPLE_AT, "updated_at": EXAMPLE_AT},
               {"id": "2", "trigger_source": "api", "event_action": "started",
                "created_at": EXAMPLE_AT, "updated_at": EXAMPLE_AT}],
    "metrics": {"total_participants": 250, "contacts_called": 112, "contacts_connected": 64,
                "calls_placed": 124, "in_progress": 5, "channels_in_use": 5,
                "outcomes": {"answered": 64, "no_answer": 41, "busy": 14, "failed": 3},
                "by_status": {"pending": 133, "in_progress": 5, "completed": 99,
                              "retry_scheduled": 13}}}}
STARTED_EXAMPLE = {"data": {"task_id": "6d1f7c2e-0a4b-4c8d-9e3f-2b1a0c9d8e7f",
                            "campaign_id": EXAMPLE_ID}}
STATUS_ONLY_EXAMPLE: dict[str, Any] = {}
AUDIENCE_LIST_EXAMPLE = {"data": [{
    **_AUDIENCE, "has_campaigns": True, "campaigns": [
        {"id": EXAMPLE_ID, "name": "January Outreach", "status": "running",
         "created_at": EXAMPLE_AT}]}]}
AUDIENCE_CREATED_EXAMPLE = {"data": {
    **_AUDIENCE, "description": "Customers renewing in January",
    "identifier_column_name": "customerId",
    "rejected": [{"row": 7, "error": "not a valid phone number: '555-01'"}]}}
AUDIENCE_EXAMPLE = {"data": _AUDIENCE}
AUDIENCE_DELETED_EXAMPLE: dict[str, Any] = {"data": []}
MEMBERS_PAGE_EXAMPLE = {"data": {"members": [_MEMBER], "total_count": 250, "total_pages": 50,
                                 "has_more": True}}
MEMBERS_ADDED_EXAMPLE = {"data": [{
    "message": "2 members added successfully",
    "data": {"added": 2, "skipped": 1,
             "rejected": [{"row": 3, "error": "not a valid phone number: '12'"}]}}]}
MEMBERS_DELETED_EXAMPLE = {"data": {"deleted_count": 2}}
SEARCH_EXAMPLE = {"data": {"members": [_MEMBER], "search_info": {
    "search_type": "general", "search_term": "john", "search_fields": [],
    "total_results": 1}}}
PHONE_NUMBERS_EXAMPLE = {"data": [{
    "id": EXAMPLE_NUMBER_ID, "is_active": True,
    "attributes": {"provider": "simulated", "phone_number": "+14155550100",
                   "country_code": "US"}}]}
DNC_EXAMPLE = {"data": {"entries": [{
    "id": "+14155550199", "org_id": EXAMPLE_ORG_ID, "phone_number": "+14155550199",
    "created_at": EXAMPLE_AT, "updated_at": EXAMPLE_AT}],
    "pagination": {"total": 1, "page": 1, "offset": 50, "has_more": False, "total_pages": 1}}}
AUDIENCE_UPLOAD_EXAMPLE = {
    "file": "customerId,phoneNumber,firstName\nc-1,+14155550123,John\n",
    "name": "January renewals", "phoneNumberColumnName": "phoneNumber",
    "identifierColumnName": "customerId", "description": "Customers renewing in January"}
