"""The Python client (README, "Using it from Python"): ``from dialer.client import DialerClient``.

Each client builds its own engine and Redis connection from its own
settings; nothing is cached process-wide, so keyword overrides always hold.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from pathlib import Path
from typing import Any

from dialer.errors import ValidationError
from dialer.service import campaigns as campaign_service
from dialer.service import commands, csv_import, forecasting, readiness, reads
from dialer.service import contacts as contact_service
from dialer.service.runtime import Runtime, build_runtime
from dialer.service.steps.audience_intake import create_audience
from dialer.settings import load_settings
from dialer.spec import CampaignSpec
from dialer.statuses import EventSource
from dialer.views import (
    AudienceSummary,
    AudienceView,
    CallView,
    CampaignDetail,
    CampaignView,
    EventView,
    Forecast,
    ImportReport,
    ParticipantView,
    PhoneNumberView,
    ReadinessView,
    RejectedContact,
    RejectedRequestView,
    SkipView,
)


class DialerClient:
    def __init__(
        self, *, database_url: str | None = None, redis_url: str | None = None,
        broker_url: str | None = None, provider: str | None = None,
        tick_seconds: float | None = None, time_scale: float | None = None,
        time_origin: str | None = None, source: str = EventSource.API, **other_settings: Any,
    ) -> None:
        self.settings = load_settings(
            database_url=database_url, redis_url=redis_url, broker_url=broker_url,
            provider=provider, tick_seconds=tick_seconds, time_scale=time_scale,
            time_origin=time_origin, **other_settings)
        self._source = source
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from dialer.providers import load_provider
            from workers.app import create_app
            from workers.dispatch import CeleryDispatcher

            self._runtime = build_runtime(
                self.settings, dispatcher=CeleryDispatcher(create_app(self.settings)),
                provider_factory=load_provider, pool_size=2)
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def __enter__(self) -> DialerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The dialer's simulated now, as every process sees it."""
        return self.runtime.clock.now()

    # -- caller IDs, audiences, DNC -------------------------------------------------

    def add_phone_number(self, number: str, provider: str = "simulated",
                         cps: float | None = None) -> PhoneNumberView:
        rt = self.runtime
        with rt.transaction() as s:
            return contact_service.add_phone_number(
                s, number=number, provider=provider, cps=cps, now=rt.clock.now(),
                default_region=rt.settings.default_region)

    def set_phone_number_active(self, id: str, active: bool) -> PhoneNumberView:
        """Take a caller ID out of rotation (or back in) without deleting it."""
        with self.runtime.transaction() as s:
            return contact_service.set_phone_number_active(s, id, active=active)

    def phone_numbers(self) -> list[PhoneNumberView]:
        with self.runtime.unit_of_work() as s:
            return contact_service.list_phone_numbers(s)

    def create_audience(self, name: str, contacts: list[dict[str, Any]] | None = None
                        ) -> AudienceView:
        rt = self.runtime
        with rt.transaction() as s:
            return create_audience(
                s, name=name, contacts=contacts or [], now=rt.clock.now(),
                default_region=rt.settings.default_region)

    def import_contacts(self, audience_id: str, csv_path: str | Path,
                        on_progress: Any = None) -> ImportReport:
        rt = self.runtime
        with rt.transaction() as s:
            return csv_import.import_contacts(
                s, audience_id=str(audience_id), csv_path=csv_path,
                default_region=rt.settings.default_region, on_progress=on_progress)

    def create_audience_from_csv(self, name: str, csv_path: str | Path,
                                 on_progress: Any = None) -> AudienceView:
        """An audience and its CSV import in one transaction: a file that cannot be read
        at all (no ``phone`` column, missing) leaves no empty audience behind."""
        rt = self.runtime
        with rt.transaction() as s:
            audience = create_audience(
                s, name=name, contacts=[], now=rt.clock.now(),
                default_region=rt.settings.default_region)
            report = csv_import.import_contacts(
                s, audience_id=audience.id, csv_path=csv_path,
                default_region=rt.settings.default_region, on_progress=on_progress)
        rejected = [RejectedContact(index=r.row, phone=None, error=r.error)
                    for r in report.rejected]
        return AudienceView(id=audience.id, name=name, count=report.imported, rejected=rejected)

    def audiences(self) -> list[AudienceSummary]:
        with self.runtime.unit_of_work() as s:
            return reads.audiences(s)

    def resolve_references(self, spec: dict[str, Any], *, audience: str | None = None,
                           caller_ids: list[str] | None = None) -> dict[str, Any]:
        """``spec`` with ``audience_id`` set from an audience's id or exact name and
        ``phone_number_ids`` from caller IDs given by id or number (what the CLI's
        ``--audience`` and ``--caller-id`` take). ValidationError names ``audience``
        or ``caller_id`` when one is unknown, ambiguous or not a valid number."""
        errors: list[tuple[str, str]] = []
        out = dict(spec)
        with self.runtime.unit_of_work() as s:
            if audience is not None:
                try:
                    out["audience_id"] = contact_service.resolve_audience(s, audience)
                except ValueError as exc:
                    errors.append(("audience", str(exc)))
            if caller_ids:
                ids: list[str] = []
                for ref in caller_ids:
                    try:
                        ids.append(contact_service.resolve_phone_number(
                            s, ref, default_region=self.settings.default_region))
                    except ValueError as exc:
                        errors.append(("caller_id", str(exc)))
                out["phone_number_ids"] = list(dict.fromkeys(ids))
        if errors:
            raise ValidationError(errors)
        return out

    def add_dnc(self, numbers: list[str] | str) -> int:
        rt = self.runtime
        with rt.transaction() as s:
            return contact_service.add_dnc(s, numbers, now=rt.clock.now(),
                                           default_region=rt.settings.default_region)

    def remove_dnc(self, numbers: list[str] | str) -> int:
        rt = self.runtime
        with rt.transaction() as s:
            return contact_service.remove_dnc(s, numbers,
                                              default_region=rt.settings.default_region)

    def dnc(self) -> list[str]:
        with self.runtime.unit_of_work() as s:
            return contact_service.list_dnc(s)

    # -- campaigns ----------------------------------------------------------------

    def create_campaign(self, spec: CampaignSpec | dict[str, Any]) -> CampaignView:
        rt = self.runtime
        with rt.transaction() as s:
            return campaign_service.create_campaign(s, spec, now=rt.clock.now(),
                                                    source=self._source)

    def start(self, id: str) -> CampaignView:
        return self._command(id, "start")

    def pause(self, id: str) -> CampaignView:
        return self._command(id, "pause")

    def resume(self, id: str) -> CampaignView:
        return self._command(id, "resume")

    def stop(self, id: str) -> CampaignView:
        return self._command(id, "stop")

    def allocate_channels(self, id: str, n: int) -> CampaignView:
        return self._command(id, "allocate_channels", channels=n)

    def reset_breaker(self, id: str) -> CampaignView:
        return self._command(id, "reset_breaker")

    def delete(self, id: str) -> None:
        commands.delete(self.runtime, str(id), source=self._source)

    def get(self, id: str) -> CampaignDetail:
        with self.runtime.unit_of_work() as s:
            return reads.campaign_detail(s, str(id))

    # Below this method ``list`` in an annotation is the method, so they say builtins.list.
    def list(self, status: str | None = None, sort: str = "created_at") -> list[CampaignView]:
        with self.runtime.unit_of_work() as s:
            return reads.list_campaigns(s, status=status, sort=sort)

    def participants(self, id: str) -> builtins.list[ParticipantView]:
        with self.runtime.unit_of_work() as s:
            return reads.participants(s, str(id))

    def calls(self, id: str) -> builtins.list[CallView]:
        with self.runtime.unit_of_work() as s:
            return reads.calls(s, str(id))

    def events(self, id: str) -> builtins.list[EventView]:
        with self.runtime.unit_of_work() as s:
            return reads.events(s, str(id))

    def skips(self, id: str) -> builtins.list[SkipView]:
        with self.runtime.unit_of_work() as s:
            return reads.skips(s, str(id))

    def readiness(self, id: str) -> ReadinessView:
        """"Will it dial?": every condition for placing a call, and which one fails."""
        return readiness.campaign_readiness(self.runtime, str(id))

    def rejected_requests(self, limit: int = 50) -> builtins.list[RejectedRequestView]:
        """Remote requests refused for bad input (``dialer.enqueue_campaign`` ...)."""
        with self.runtime.unit_of_work() as s:
            return reads.rejected_requests(s, limit=limit)

    def forecast(self, id: str) -> Forecast:
        """Calls per hour the settings achieve and the ETA, simulated with the calendar."""
        return forecasting.forecast(self.runtime, str(id))

    def _command(self, id: str, command: str, **args: Any) -> CampaignView:
        return commands.command(self.runtime, str(id), command, args, source=self._source)


__all__ = ["DialerClient", "ValidationError"]
