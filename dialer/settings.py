"""Settings from the environment (prefix ``DIALER_``); docs/contract.md §1 lists each."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dialer.clock import ScaledClock, parse_time_origin

DEFAULT_DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    broker_url: str | None = None
    provider: str = "simulated"
    org_channel_cap: int = Field(default=100, ge=0)
    tick_seconds: float = Field(default=1.0, gt=0)
    time_scale: float = Field(default=1.0, gt=0)
    time_origin: str | None = None

    # Added after the first release; docs/contract.md §1 lists these too.
    sweep_seconds: float = Field(default=5.0, gt=0)
    default_region: str | None = "US"
    log_json: bool = False
    # Issue 14: a running campaign fails (status failed, with its error) when its
    # configuration lets no call through: none of its caller IDs active for this many
    # simulated seconds, or the provider refusing this many calls in a row for good
    # (CallRefused(permanent=True)) before it placed any call of the run. 0 = off.
    fail_no_caller_id_after_s: float = Field(default=600.0, ge=0)
    fail_after_provider_refusals: int = Field(default=10, ge=0)
    # Frequency caps across campaigns (0 = off).
    max_calls_per_number_24h: int = Field(default=0, ge=0)
    max_calls_per_number_7d: int = Field(default=0, ge=0)
    # Simulated provider.
    sim_seed: int = 0
    sim_outcome_rates: dict[str, float] = Field(
        default_factory=lambda: {
            "answered": 0.55,
            "no_answer": 0.2,
            "busy": 0.08,
            "voicemail": 0.12,
            "failed": 0.05,
        }
    )
    sim_talk_s: tuple[float, float] = (20.0, 180.0)
    sim_ring_s: tuple[float, float] = (3.0, 20.0)
    # What one started minute of talk costs on the simulated provider (issue 14: the
    # result reports a cost; 0 reports none).
    sim_cost_per_minute: Decimal = Field(default=Decimal("0.013"), ge=0, le=1000)

    # Issue #11 part A (malformed remote requests): payload limits, refused above them
    # with a field error and recorded (docs/remote-control.md, "Limits").
    remote_max_contacts: int = Field(default=100_000, ge=1)
    remote_max_message_bytes: int = Field(default=32 * 1024 * 1024, ge=64 * 1024)

    # Issue 11, item 2 (results that must not be lost); see ARCHITECTURE.md.
    # Redis broker: a message reserved by a worker that died comes back after
    # this many real seconds (kombu's visibility timeout), checked every
    # ``broker_restore_interval_s``. Longer countdowns are delivered again
    # meanwhile, harmlessly (every task is idempotent).
    broker_visibility_timeout_s: float = Field(default=45.0, gt=0)
    broker_restore_interval_s: float = Field(default=5.0, gt=0)
    # dialer.call_result retries for as long as PostgreSQL or Redis is away,
    # waiting at most this long (whole seconds) between two tries.
    result_retry_backoff_max_s: int = Field(default=30, ge=1)

    # Part D of issue #11 (items 7 and 10): timeouts on every Redis and
    # PostgreSQL connection we build, so one stuck connection cannot freeze
    # dialing (docs/deployment.md, "Timeouts"). 0 turns a PostgreSQL one off.
    redis_socket_timeout_s: float = Field(default=5.0, gt=0)
    redis_connect_timeout_s: float = Field(default=5.0, gt=0)
    redis_health_check_interval_s: int = Field(default=30, ge=0)
    db_connect_timeout_s: int = Field(default=10, ge=0)
    db_statement_timeout_s: float = Field(default=60.0, ge=0)
    db_lock_timeout_s: float = Field(default=30.0, ge=0)
    db_idle_in_transaction_timeout_s: float = Field(default=120.0, ge=0)

    # Hung providers (issue #11 item 4): real seconds a dial waits for
    # ``place_call`` before it stops waiting and treats the call as placed;
    # the dial task's Celery time limits are derived from it (workers/time_limits.py).
    provider_timeout_s: float = Field(default=10.0, gt=0, le=300)

    # Issue 11 item 8 (the broker is not an open door), part E: opt-in
    # message signing, Celery's "auth" serializer (docs/deployment.md). All
    # three set = every task sent is signed with this key and a worker runs
    # only tasks signed by a certificate in the store; none set = plain JSON.
    security_key: str | None = None  # PEM private key file (unencrypted)
    security_cert: str | None = None  # PEM certificate of that key
    security_cert_store: str | None = None  # directory or glob of trusted certificates

    # The HTTP API (issue 13, docs/api.md): a larger body is refused with 413 before a
    # route reads it; an uploaded CSV and an audience have their own caps (the Atoms
    # API's: 5 MB, 10,000 members). The event stream reads new rows every
    # ``api_stream_poll_s``, sends metrics every ``api_stream_metrics_s`` and a
    # heartbeat comment when idle for ``api_stream_heartbeat_s`` (real seconds).
    api_max_body_bytes: int = Field(default=6 * 1024 * 1024, ge=1024)
    api_max_csv_bytes: int = Field(default=5_000_000, ge=1)
    api_max_audience_members: int = Field(default=10_000, ge=1)
    api_stream_poll_s: float = Field(default=0.5, gt=0, le=60)
    api_stream_metrics_s: float = Field(default=2.0, gt=0, le=60)
    api_stream_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    # Streamed exports reading at once, per API process and per organisation: each holds
    # a pooled connection while its client reads (dialer/api/export_slots.py).
    api_max_exports: int = Field(default=4, ge=1, le=100)
    api_max_exports_per_org: int = Field(default=2, ge=1, le=100)
    # A web console session lasts this many real hours (docs/console.md); signing out,
    # or revoking its key, ends it sooner.
    console_session_hours: float = Field(default=12.0, gt=0, le=24 * 90)

    @model_validator(mode="after")
    def _signing_all_or_nothing(self) -> Settings:
        fields = ("security_key", "security_cert", "security_cert_store")
        given = [name for name in fields if getattr(self, name)]
        if given and len(given) < len(fields):
            missing = ", ".join(f"DIALER_{n.upper()}" for n in fields if n not in given)
            raise ValueError(f"message signing needs all three settings: {missing} not set")
        return self

    @property
    def signing_enabled(self) -> bool:
        return bool(self.security_key)

    @field_validator("time_origin")
    @classmethod
    def _origin_parses(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parse_time_origin(value)
        return value

    @model_validator(mode="after")
    def _fill_broker(self) -> Settings:
        if not self.broker_url:
            self.broker_url = self.redis_url
        return self

    @property
    def sim_origin(self) -> tuple[datetime, float] | None:
        return parse_time_origin(self.time_origin) if self.time_origin else None

    def clock(self) -> ScaledClock:
        origin = self.sim_origin
        if origin is None:
            # Unset origin: real time. A scale other than 1 still needs an
            # anchor every process shares, so it is taken as "now" only in
            # this process; set DIALER_TIME_ORIGIN for multi-process runs.
            if self.time_scale == 1.0:
                return ScaledClock()
            return ScaledClock(time_scale=self.time_scale, sim_origin=_utc_now_once())
        sim, real = origin
        return ScaledClock(time_scale=self.time_scale, sim_origin=sim, real_anchor_s=real)


_PROCESS_ANCHOR: datetime | None = None


def _utc_now_once() -> datetime:
    # The one sanctioned wall-clock read for an unanchored scaled clock.
    global _PROCESS_ANCHOR
    if _PROCESS_ANCHOR is None:
        import time
        from datetime import UTC

        _PROCESS_ANCHOR = datetime.fromtimestamp(time.time(), tz=UTC)
    return _PROCESS_ANCHOR


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with keyword overrides (lower-case names)."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)
