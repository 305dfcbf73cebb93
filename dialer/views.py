"""What the client returns (CONTRACT §3, §7): pydantic models with the contract's field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class PhoneNumberView(BaseModel):
    id: str
    number: str
    provider: str
    is_active: bool
    cps: float | None = None


class RejectedContact(BaseModel):
    index: int
    phone: Any = None
    error: str


class AudienceView(BaseModel):
    id: str
    name: str
    count: int
    rejected: list[RejectedContact] = Field(default_factory=list)


class RejectedRow(BaseModel):
    row: int
    error: str


class ImportReport(BaseModel):
    imported: int
    rejected: list[RejectedRow] = Field(default_factory=list)


class ExecutionView(BaseModel):
    execution_number: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    total_members: int
    processed_members: int
    failed_members: int


class CampaignView(BaseModel):
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


class Metrics(BaseModel):
    total_participants: int
    contacts_called: int
    contacts_connected: int
    calls_placed: int
    in_progress: int
    channels_in_use: int
    outcomes: dict[str, int]
    by_status: dict[str, int]


class CampaignDetail(BaseModel):
    campaign: CampaignView
    metrics: Metrics

    def __getitem__(self, key: str) -> Any:
        # get(id)["metrics"] reads as the contract writes it.
        return getattr(self, key)


class ParticipantView(BaseModel):
    contact_id: int
    phone: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_outcome: str | None


class CallView(BaseModel):
    call_id: str
    contact_id: int
    phone: str
    from_number: str | None
    attempt: int
    placed_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    duration_s: float | None


class EventView(BaseModel):
    at: datetime
    source: str
    action: str
    detail: str | None


class SkipView(BaseModel):
    at: datetime
    contact_id: int
    phone: str
    reason: str
    detail: str | None


class Forecast(BaseModel):
    calls_per_hour: float
    eta: datetime | None
