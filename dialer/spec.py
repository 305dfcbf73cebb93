"""CampaignSpec (docs/spec.md): the JSON a campaign is created from.

Validation reports every offending field at once, by dotted path, through
``parse_campaign_spec``. Checks that need the current instant
(``scheduled_at`` in the future) take it as an argument.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dialer.errors import ValidationError
from dialer.text import CONTAINS_NUL, nul_fields

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# The default allowed_days (typed, so the default factory type-checks as list[Weekday]).
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PresetName = Literal["conservative", "balanced", "aggressive"]
Recurrence = Literal["daily", "weekly", "monthly"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# Upper bounds beyond the contract's (docs/spec.md lists every one). They keep every
# instant the rules compute (now plus a cooldown, a gap, a date's next opening) far
# inside what a datetime holds, and refuse values no production campaign means.
HOURS_IN_A_YEAR = 8_784  # a leap year: cooldowns and look-backs
SECONDS_IN_A_DAY = 86_400  # spacing between two calls
MAX_CHANNELS = 10_000
MAX_CALLS_PER_MINUTE = 6_000  # 100 calls per second
MAX_DAILY_LIMIT = 1_000_000
MAX_PRIORITY = 1_000
MAX_BREAKER_CALLS = 10_000
MAX_LIST_ITEMS = 1_000  # holidays, caller IDs
# Dates a campaign may name (holidays, start/end dates, scheduled_at): a year's
# horizon of calendar search from any of them stays inside datetime's range.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)


def _finite(**bounds: Any) -> Any:
    """A float field that refuses inf and NaN (also as the JSON strings "Infinity", "NaN")."""
    return Field(allow_inf_nan=False, **bounds)


def _check_date(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"must be between {FIRST_DATE} and {LAST_DATE}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=1024)
def is_iana_zone(name: str) -> bool:
    """Whether ``name`` is a zone ``ZoneInfo`` can load: the one check behind every
    time zone a user gives (campaign spec, inline contacts, CSV rows)."""
    try:
        ZoneInfo(name)
    # OSError: a folder of the zone database ("US", "Etc") is found and then cannot
    # be read as a file (IsADirectoryError); a name over 255 bytes is too long for one.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _check_timezone(value: str) -> str:
    if not is_iana_zone(value):
        raise ValueError(f"unknown IANA timezone {value!r}")
    return value


class CallWindow(_Strict):
    start: str = "09:00"
    end: str = "18:00"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("expected HH:MM (00:00-23:59)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CallWindow:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self

    @property
    def start_time(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def end_time(self) -> time:
        return time.fromisoformat(self.end)


class Schedule(_Strict):
    call_window: CallWindow = Field(default_factory=CallWindow)
    allowed_days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    holidays: list[date] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    holiday_country: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    contact_local_time: bool = True
    recurrence: Recurrence | None = None

    @field_validator("start_date", "end_date")
    @classmethod
    def _supported_date(cls, value: date | None) -> date | None:
        return None if value is None else _check_date(value)

    @field_validator("holidays")
    @classmethod
    def _supported_holidays(cls, value: list[date]) -> list[date]:
        for day in value:
            _check_date(day)
        # A set of dates, kept sorted once each as allowed_days are: the same holidays in
        # another order are the same spec (digest, edits: docs/contract.md §2b).
        return sorted(set(value))

    @field_validator("allowed_days")
    @classmethod
    def _not_empty(cls, value: list[Weekday]) -> list[Weekday]:
        if not value:
            raise ValueError("at least one day is required")
        return sorted(set(value), key=WEEKDAYS.index)

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays as holidays_lib

        code = value.upper()
        if code not in holidays_lib.list_supported_countries():
            raise ValueError(f"unsupported holiday country {value!r}")
        return code

    @model_validator(mode="after")
    def _dates_ordered(self) -> Schedule:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must be on or after start_date")
        return self


# Presets fill only the pacing fields the caller left unset (README documents them).
PRESETS: dict[str, dict[str, Any]] = {
    "conservative": {"channels": 2, "calls_per_minute": 6, "spacing_seconds": 10,
                     "daily_limit": 500},
    "balanced": {"channels": 5, "calls_per_minute": 20, "spacing_seconds": 2,
                 "daily_limit": None},
    "aggressive": {"channels": 20, "calls_per_minute": 60, "spacing_seconds": 0,
                   "daily_limit": None},
}


class Pacing(_Strict):
    preset: PresetName | None = None
    channels: int = Field(default=1, ge=0, le=MAX_CHANNELS)
    calls_per_minute: int | None = Field(default=None, ge=1, le=MAX_CALLS_PER_MINUTE)
    spacing_seconds: float = _finite(default=0, ge=0, le=SECONDS_IN_A_DAY)
    daily_limit: int | None = Field(default=None, ge=1, le=MAX_DAILY_LIMIT)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        # A preset that is not a string (a list, an object) cannot be hashed into the
        # lookup: left for the field's own validation to name (found by schemathesis).
        preset = data.get("preset") if isinstance(data, dict) else None
        if isinstance(preset, str) and preset in PRESETS:
            filled = dict(PRESETS[data["preset"]])
            filled.update({k: v for k, v in data.items() if v is not None or k == "preset"})
            return filled
        return data


class CallHandling(_Strict):
    ring_timeout_s: int = Field(default=30, ge=5, le=120)
    max_duration_s: int = Field(default=600, ge=1, le=1800)


class RetryPolicySpec(_Strict):
    max_retries: int = Field(default=3, ge=0, le=10)
    retry_delay_minutes: float = _finite(default=15, ge=1, le=1440)
    cooldown_hours: float = _finite(default=0, ge=0, le=HOURS_IN_A_YEAR)
    not_picked_cooldown_hours: float = _finite(default=0, ge=0, le=HOURS_IN_A_YEAR)
    retry_on_voicemail: bool = False
    goal_based: bool = False

    @property
    def max_attempts(self) -> int:
        return 1 + self.max_retries


class CircuitBreakerSpec(_Strict):
    enabled: bool = True
    failure_rate: float = _finite(default=0.5, gt=0, le=1)
    min_calls: int = Field(default=20, ge=1, le=MAX_BREAKER_CALLS)
    window: int = Field(default=50, ge=1, le=MAX_BREAKER_CALLS)

    @model_validator(mode="after")
    def _min_within_window(self) -> CircuitBreakerSpec:
        if self.min_calls > self.window:
            raise ValueError("min_calls must not exceed window")
        return self


class Safety(_Strict):
    respect_dnc: bool = True
    business_hours_guard: bool = False
    circuit_breaker: CircuitBreakerSpec = Field(default_factory=CircuitBreakerSpec)
    skip_recently_completed_hours: float | None = _finite(default=None, ge=0,
                                                          le=HOURS_IN_A_YEAR)


class CampaignSpec(_Strict):
    name: str = Field(min_length=1, max_length=40)
    description: str | None = None
    agent_id: str | None = Field(default=None, max_length=200)  # the column's width
    audience_id: str | None = None
    phone_number_ids: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    scheduled_at: datetime | None = None
    timezone: str = "UTC"
    priority: int = Field(default=0, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    external_id: str | None = Field(default=None, max_length=200)
    schedule: Schedule = Field(default_factory=Schedule)
    pacing: Pacing = Field(default_factory=Pacing)
    call_handling: CallHandling = Field(default_factory=CallHandling)
    retry: RetryPolicySpec = Field(default_factory=RetryPolicySpec)
    safety: Safety = Field(default_factory=Safety)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("scheduled_at needs a UTC offset")
        if value is not None:
            # On its own wall clock: turning 9999-12-31T23:00-14:00 into UTC would overflow.
            _check_date(value.date())
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "spec"


def field_errors(exc: pydantic.ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """Pydantic errors as (dotted field, message) pairs."""
    out = []
    for err in exc.errors():
        # Errors raised by a model validator carry the model's own path.
        loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-before"))
        path = _field_path(loc)
        message = err["msg"].removeprefix("Value error, ")
        out.append((f"{prefix}{path}" if prefix else path, message))
    return out


# A campaign without an agent may be created, as a draft; it cannot wait to start.
AGENT_TO_SCHEDULE = "required to schedule a campaign (scheduled_at is set)"


def parse_campaign_spec(data: CampaignSpec | dict[str, Any], *, now: datetime,
                        check_schedule: bool = True) -> CampaignSpec:
    """Validate a spec completely; raise one ValidationError naming every bad field.

    ``check_schedule``: ``scheduled_at`` must lie in the future and comes with an
    ``agent_id``. An edit that leaves ``scheduled_at`` as it was passes False: the
    instant a running campaign was scheduled for has passed, and stays valid."""
    errors: list[tuple[str, str]] = []
    spec: CampaignSpec | None = None
    if isinstance(data, CampaignSpec):
        spec = data
    elif not isinstance(data, dict):
        raise ValidationError([("spec", "expected an object")])
    else:
        try:
            spec = CampaignSpec.model_validate(data)
        except pydantic.ValidationError as exc:
            errors.extend(field_errors(exc))
            spec = None
    # Stored as jsonb and text columns, which hold no NUL (dialer/text.py).
    errors.extend((field, CONTAINS_NUL) for field in nul_fields(
        data.model_dump(mode="json") if isinstance(data, CampaignSpec) else data))
    raw_scheduled = spec.scheduled_at if spec else _lenient_datetime(data, "scheduled_at")
    if check_schedule and raw_scheduled is not None:
        if raw_scheduled <= now:
            errors.append(("scheduled_at", "must be in the future"))
        agent = spec.agent_id if spec else (data.get("agent_id") if isinstance(data, dict)
                                            else None)
        if agent is None or agent == "":
            errors.append(("agent_id", AGENT_TO_SCHEDULE))
    if errors:
        raise ValidationError(errors)
    assert spec is not None
    return spec


def _lenient_datetime(data: Any, key: str) -> datetime | None:
    if not isinstance(data, dict) or not isinstance(data.get(key), str):
        return None
    try:
        value = datetime.fromisoformat(data[key].replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None
