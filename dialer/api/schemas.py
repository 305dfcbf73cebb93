"""Request bodies of the native ``/v1`` routes, and the small answers that are not a
client view. Responses otherwise are ``dialer.views`` as they stand (same fields as the
Python client); the examples here feed the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialer.api.text import Text
from dialer.task_args import MAX_DETAIL_CHARS, MAX_DURATION_S, Cost, WebUrl

# A Number fits in the column (E.164 is at most 15 digits; people type spaces, dashes).
NUMBER_MAX_CHARS = 40
NUMBERS_MAX_ITEMS = 10_000


class Body(BaseModel):
    # Typos are errors, named like every other field.
    model_config = ConfigDict(extra="forbid")


class PhoneNumberIn(Body):
    number: Text = Field(max_length=NUMBER_MAX_CHARS,
                        description="E.164, or national in DIALER_DEFAULT_REGION")
    provider: Text = Field(default="simulated", min_length=1, max_length=100)
    cps: float | None = Field(default=None, gt=0, le=1000, description="calls per second")

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"number": "+14155550100", "provider": "simulated", "cps": 1.0}]})


class AudienceIn(Body):
    name: Text = Field(min_length=1, max_length=200)
    contacts: list[dict[str, Any]] = Field(
        default_factory=list, description="`{phone, name?, timezone?, attributes?, "
        "secondary_phones?}`; at most DIALER_API_MAX_AUDIENCE_MEMBERS (413 above)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "March renewals",
        "contacts": [{"phone": "+14155550123", "name": "Ada", "timezone": "America/Los_Angeles",
                      "attributes": {"plan": "gold"}},
                     {"phone": "+14155550124"}]}]})


class ChannelsIn(Body):
    channels: int = Field(ge=0, le=100_000)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"channels": 5}]})


class NumbersIn(Body):
    numbers: list[Text] = Field(min_length=1, max_length=NUMBERS_MAX_ITEMS)

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"numbers": ["+14155550123", "+14155550124"]}]})


class DncChange(BaseModel):
    changed: int = Field(description="numbers added (POST) or removed (DELETE)")


class CallResultIn(Body):
    """CONTRACT §5: what ``dialer.call_result`` takes, less the call id (in the path)."""

    outcome: Literal["answered", "no_answer", "busy", "voicemail", "failed"]
    duration_s: float = Field(default=0.0, ge=0, le=MAX_DURATION_S, allow_inf_nan=False)
    goal_achieved: bool | None = None
    detail: Text | None = Field(default=None, max_length=MAX_DETAIL_CHARS)
    # Optional (issue 14); a sender without them still works.
    recording_url: WebUrl | None = Field(default=None, description="http(s), at most 2,000 "
                                         "characters")
    transcript_url: WebUrl | None = Field(default=None, description="http(s), at most 2,000 "
                                          "characters")
    cost: Cost | None = Field(default=None, description="non-negative decimal (a number or a "
                              "string), rounded to 6 decimal places")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "answered", "duration_s": 42.5, "goal_achieved": True, "detail": None},
        {"outcome": "answered", "duration_s": 61.0, "goal_achieved": True, "detail": None,
         "recording_url": "https://media.example.com/rec/8c1f.wav",
         "transcript_url": "https://media.example.com/txt/8c1f.txt", "cost": "0.026"}]})


class Applied(BaseModel):
    applied: bool = Field(description="false when the call had already ended (a replay)")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    postgres: bool
    redis: bool


# --- leads ---

# A person's selection of contacts (the service's own bound, steps/leads.py).
CONTACT_IDS_MAX_ITEMS = 10_000


class ContactsIn(Body):
    contacts: list[dict[str, Any]] = Field(
        description="`{phone, name?, timezone?, attributes?, secondary_phones?}`, as when an "
                    "audience is created; at most DIALER_API_MAX_AUDIENCE_MEMBERS (413 above)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "contacts": [{"phone": "+14155550125", "name": "Grace",
                      "attributes": {"plan": "silver"}}]}]})


class MemberIdsIn(Body):
    member_ids: list[int] = Field(min_length=1, max_length=CONTACT_IDS_MAX_ITEMS,
                                  description="contact ids (`members[].id`)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"member_ids": [1, 2]}]})


class ContactIdsIn(Body):
    contact_ids: list[int] = Field(min_length=1, max_length=CONTACT_IDS_MAX_ITEMS,
                                   description="the participants' `contact_id`s")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"contact_ids": [1, 2]}]})


class CountOut(BaseModel):
    """How many contacts a change applied to."""

    count: int

    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 2}]})
