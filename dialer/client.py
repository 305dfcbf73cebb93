"""The Python client (README, "Using it from Python"): ``from dialer.client import DialerClient``.

Each client builds its own engine and Redis connection from its own
settings; nothing is cached process-wide, so keyword overrides always hold.
A client acts for one organisation (``org``, default ``default``): another
organisation's ids are NotFound, exactly like unknown ones. The API process shares
one Runtime between the clients of its requests (``DialerClient.for_org``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from dialer.errors import ValidationError
from dialer.service import (
    activity,
    analytics,
    call_log,
    commands,
    csv_import,
    forecasting,
    health,
    orgs,
    pages,
    readiness,
    reads,
    results,
)
from dialer.service import audiences as audience_service
from dialer.service import campaigns as campaign_service
from dialer.service import contacts as contact_service
from dialer.service.runtime import Runtime, build_runtime
from dialer.service.steps import campaign_commands
from dialer.service.steps.audience_intake import create_audience
from dialer.settings import load_settings
from dialer.spec import CampaignSpec
from dialer.statuses import EventSource
from dialer.views import (
    ActivityCursor,
    AudienceMember,
    AudienceMembersPage,
    AudienceSummary,
    AudienceView,
    CallPage,
    CallView,
    CampaignActivity,
    CampaignDetail,
    CampaignFacts,
    CampaignPage,
    CampaignRef,
    CampaignView,
    ContactResult,
    DncPage,
    EventView,
    ExecutionSummary,
    Forecast,
    FunnelView,
    HealthView,
    HeatmapView,
    ImportReport,
    OrgRef,
    ParticipantPage,
    ParticipantView,
    PhoneNumberView,
    PickupRow,
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
        time_origin: str | None = None, source: str = EventSource.API,
        org: str = orgs.DEFAULT_ORG_NAME, runtime: Runtime | None = None,
        **other_settings: Any,
    ) -> None:
        """``runtime``: share one (its settings are then the client's); ``close`` leaves a
        shared runtime open, its owner closes it."""
        self.settings = runtime.settings if runtime is not None else load_settings(
            database_url=database_url, redis_url=redis_url, broker_url=broker_url,
            provider=provider, tick_seconds=tick_seconds, time_scale=time_scale,
            time_origin=time_origin, **other_settings)
        self._source = source
        self._org_name = org
        self._org: OrgRef | None = None
        self._runtime: Runtime | None = runtime
        self._owns_runtime = runtime is None

    @classmethod
    def for_org(cls, runtime: Runtime, org: OrgRef, *, source: str = EventSource.API
                ) -> DialerClient:
        """A client for an organisation already resolved (an API key's), on a shared
        runtime: nothing is opened or read to build it."""
        client = cls(runtime=runtime, org=org.name, source=source)
        client._org = org
        return client

    @property
    def org(self) -> OrgRef:
        """The organisation this client acts for; NotFound when none has its name."""
        if self._org is None:
            self._org = orgs.resolve_org(self.runtime, self._org_name)
        return self._org

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
        if self._runtime is not None and self._owns_runtime:
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
                s, org_id=self.org.id, number=number, provider=provider, cps=cps,
                now=rt.clock.now(), default_region=rt.settings.default_region)

    def set_phone_number_active(self, id: str, active: bool) -> PhoneNumberView:
        """Take a caller ID out of rotation (or back in) without deleting it."""
        with self.runtime.transaction() as s:
            return contact_service.set_phone_number_active(s, id, org_id=self.org.id,
                                                           active=active)

    def phone_numbers(self) -> list[PhoneNumberView]:
        with self.runtime.unit_of_work() as s:
            return contact_service.list_phone_numbers(s, org_id=self.org.id)

    def create_audience(self, name: str, contacts: list[dict[str, Any]] | None = None
                        ) -> AudienceView:
        rt = self.runtime
        with rt.transaction() as s:
            return create_audience(
                s, org_id=self.org.id, name=name, contacts=contacts or [], now=rt.clock.now(),
                default_region=rt.settings.default_region)

    def import_contacts(self, audience_id: str, csv_path: str | Path,
                        on_progress: Any = None) -> ImportReport:
        rt = self.runtime
        with rt.transaction() as s:
            return csv_import.import_contacts(
                s, org_id=self.org.id, audience_id=str(audience_id), csv_path=csv_path,
                default_region=rt.settings.default_region, now=rt.clock.now(),
                source=self._source, on_progress=on_progress)

    def create_audience_from_csv(self, name: str, csv_path: str | Path,
                                 on_progress: Any = None) -> AudienceView:
        """An audience and its CSV import in one transaction: a file that cannot be read
        at all (no ``phone`` column, missing) leaves no empty audience behind."""
        rt = self.runtime
        with rt.transaction() as s:
            audience = create_audience(
                s, org_id=self.org.id, name=name, contacts=[], now=rt.clock.now(),
                default_region=rt.settings.default_region)
            report = csv_import.import_contacts(
                s, org_id=self.org.id, audience_id=audience.id, csv_path=csv_path,
                default_region=rt.settings.default_region, now=rt.clock.now(),
                source=self._source, on_progress=on_progress)
        rejected = [RejectedContact(index=r.row, phone=None, error=r.error)
                    for r in report.rejected]
        return AudienceView(id=audience.id, name=name, count=report.imported, rejected=rejected)

    def audiences(self) -> list[AudienceSummary]:
        with self.runtime.unit_of_work() as s:
            return reads.audiences(s, org_id=self.org.id)

    def audience(self, id: str) -> AudienceSummary:
        """One audience with its member count."""
        return audience_service.audience(self.runtime, self.org, str(id))

    def audience_members(self, id: str, page: int = 1, limit: int = 50,
                         search: str | None = None) -> AudienceMembersPage:
        """Page ``page`` (from 1) of an audience's members, by contact id, and how many it
        has (removed contacts left out); ``search``: only members whose phone, name, time
        zone or an attribute value contains it (case-insensitive), ``total`` counting them."""
        return audience_service.members(self.runtime, self.org, str(id),
                                        skip=pages.page_skip(page, limit), take=limit,
                                        search=search)

    def search_audience_members(self, id: str, query: str | None = None,
                                fields: dict[str, str] | None = None, limit: int = 1000
                                ) -> builtins.list[AudienceMember]:
        """Members whose phone, name, time zone or an attribute value contains ``query``
        (case-insensitive), and whose every named field (``phone``/``phoneNumber``,
        ``name``, ``timezone``, else an attribute) contains its term; at most ``limit``."""
        return audience_service.search_members(self.runtime, self.org, str(id), query=query,
                                               fields=dict(fields or {}), limit=limit)

    def remove_audience_members(self, id: str, member_ids: builtins.list[str] | builtins.list[int]
                                ) -> int:
        """Members (contact ids) removed, also while campaigns use the audience: kept
        stored with their history, no longer listed, never dialed again unless added
        again; their participants not yet dialed are canceled (event
        ``contacts_removed``). Ids that are not current members are ignored."""
        return audience_service.remove_members(self.runtime, self.org, str(id), member_ids,
                                               source=self._source)

    def delete_audience(self, id: str) -> None:
        """The audience and its contacts; ValidationError while a live campaign uses it."""
        audience_service.delete(self.runtime, self.org, str(id))

    def audience_campaigns(self) -> dict[str, builtins.list[CampaignRef]]:
        """Audience id → the live campaigns using it, oldest first."""
        return pages.audience_campaigns(self.runtime, self.org)

    def resolve_references(self, spec: dict[str, Any], *, audience: str | None = None,
                           caller_ids: list[str] | None = None) -> dict[str, Any]:
        """``spec`` with ``audience_id`` set from an audience's id or exact name and
        ``phone_number_ids`` from caller IDs given by id or number (what the CLI's
        ``--audience`` and ``--caller-id`` take). ValidationError names ``audience``
        or ``caller_id`` when one is unknown, ambiguous or not a valid number."""
        errors: list[tuple[str, str]] = []
        out = dict(spec)
        org_id = self.org.id
        with self.runtime.unit_of_work() as s:
            if audience is not None:
                try:
                    out["audience_id"] = contact_service.resolve_audience(
                        s, audience, org_id=org_id)
                except ValueError as exc:
                    errors.append(("audience", str(exc)))
            if caller_ids:
                ids: list[str] = []
                for ref in caller_ids:
                    try:
                        ids.append(contact_service.resolve_phone_number(
                            s, ref, org_id=org_id, default_region=self.settings.default_region))
                    except ValueError as exc:
                        errors.append(("caller_id", str(exc)))
                out["phone_number_ids"] = list(dict.fromkeys(ids))
        if errors:
            raise ValidationError(errors)
        return out

    def add_dnc(self, numbers: list[str] | str) -> int:
        rt = self.runtime
        with rt.transaction() as s:
            return contact_service.add_dnc(s, numbers, org_id=self.org.id, now=rt.clock.now(),
                                           default_region=rt.settings.default_region)

    def remove_dnc(self, numbers: list[str] | str) -> int:
        rt = self.runtime
        with rt.transaction() as s:
            return contact_service.remove_dnc(s, numbers, org_id=self.org.id,
                                              default_region=rt.settings.default_region)

    def dnc(self) -> list[str]:
        with self.runtime.unit_of_work() as s:
            return contact_service.list_dnc(s, org_id=self.org.id)

    def dnc_entries(self, page: int = 1, limit: int = 50, search: str | None = None,
                    sort: str = "added_at") -> DncPage:
        """Page ``page`` of the do-not-call entries (``search``: the number contains it),
        ``sort`` ``added_at`` or ``phone``, largest first, ``-`` before it for ascending."""
        return pages.dnc_page(self.runtime, self.org, page=page, limit=limit, search=search,
                              sort=sort)

    # -- campaigns ----------------------------------------------------------------

    def create_campaign(self, spec: CampaignSpec | dict[str, Any]) -> CampaignView:
        rt = self.runtime
        with rt.transaction() as s:
            return campaign_service.create_campaign(s, spec, org_id=self.org.id,
                                                    now=rt.clock.now(), source=self._source)

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
        commands.delete(self.runtime, self.org, str(id), source=self._source)

    def get(self, id: str) -> CampaignDetail:
        with self.runtime.unit_of_work() as s:
            return reads.campaign_detail(s, str(id), org_id=self.org.id)

    # Below this method ``list`` in an annotation is the method, so they say builtins.list.
    def list(self, status: str | None = None, sort: str = "created_at") -> list[CampaignView]:
        with self.runtime.unit_of_work() as s:
            return reads.list_campaigns(s, org_id=self.org.id, status=status, sort=sort)

    def campaign_page(self, page: int = 1, limit: int = 50, status: str | None = None,
                      search: str | None = None, sort: str = "created_at") -> CampaignPage:
        """Page ``page`` of the live campaigns (``search``: the name contains it), sorted by
        ``created_at`` or ``updated_at`` as ``list`` sorts; ``matching`` counts the
        filtered campaigns, ``total`` all of them."""
        return pages.campaign_page(self.runtime, self.org, page=page, limit=limit,
                                   status=status, search=search, sort=sort)

    def campaign_facts(self, ids: builtins.list[str]) -> dict[str, CampaignFacts]:
        """Per campaign id: participants, retries placed, contacts canceled by a stop, its
        last pause and failure, its audience's name, contacts called (zeros for a foreign
        or unknown id)."""
        return pages.campaign_facts(self.runtime, self.org, [str(i) for i in ids])

    def campaign_status_counts(self) -> dict[str, int]:
        """Every campaign status → how many live campaigns have it (zeros included)."""
        return pages.campaign_status_counts(self.runtime, self.org)

    def campaign_activity(self, id: str, after: ActivityCursor | None = None,
                          limit: int = 500) -> CampaignActivity:
        """What happened in the campaign after ``after``: events, skips, placed and ended
        calls, at most ``limit`` of each, and its status (None once deleted)."""
        return activity.campaign_activity(self.runtime, self.org, str(id),
                                          after=after or ActivityCursor(), limit=limit)

    def participants(self, id: str) -> builtins.list[ParticipantView]:
        with self.runtime.unit_of_work() as s:
            return reads.participants(s, str(id), org_id=self.org.id)

    def calls(self, id: str) -> builtins.list[CallView]:
        with self.runtime.unit_of_work() as s:
            return reads.calls(s, str(id), org_id=self.org.id)

    def events(self, id: str) -> builtins.list[EventView]:
        with self.runtime.unit_of_work() as s:
            return reads.events(s, str(id), org_id=self.org.id)

    def skips(self, id: str) -> builtins.list[SkipView]:
        with self.runtime.unit_of_work() as s:
            return reads.skips(s, str(id), org_id=self.org.id)

    def readiness(self, id: str) -> ReadinessView:
        """"Will it dial?": every condition for placing a call, and which one fails."""
        return readiness.campaign_readiness(self.runtime, self.org, str(id))

    def rejected_requests(self, limit: int = 50) -> builtins.list[RejectedRequestView]:
        """Remote requests refused for bad input (``dialer.enqueue_campaign`` ...)."""
        with self.runtime.unit_of_work() as s:
            return reads.rejected_requests(s, org=self.org, limit=limit)

    def forecast(self, id: str) -> Forecast:
        """Calls per hour the settings achieve and the ETA, simulated with the calendar."""
        return forecasting.forecast(self.runtime, self.org, str(id))

    def call_result(self, call_id: str, outcome: str, duration_s: float = 0.0,
                    goal_achieved: bool | None = None, detail: str | None = None,
                    recording_url: str | None = None, transcript_url: str | None = None,
                    cost: Any = None) -> bool:
        """A provider's result for one of this organisation's calls (the HTTP webhook's
        hand-over): checked like ``dialer.call_result``'s arguments (ValidationError
        naming the fields), then the same result path. NotFound for a call this
        organisation did not place; False when it was already finished (a replay).
        ``recording_url``/``transcript_url`` (http(s), at most 2,000 characters) and
        ``cost`` (a non-negative decimal, number or string) are optional."""
        return results.record_org_result(
            self.runtime, self.org, str(call_id), outcome=outcome, duration_s=duration_s,
            goal_achieved=goal_achieved, detail=detail, recording_url=recording_url,
            transcript_url=transcript_url, cost=cost)

    def health(self) -> HealthView:
        """Whether PostgreSQL and Redis answer (never raises for either being down)."""
        return health.health(self.runtime)

    # --- edit ---

    def update_campaign(self, id: str, patch: dict[str, Any]) -> CampaignView:
        """Merge ``patch`` (a partial spec: objects merge, other values replace, null
        clears) into the campaign's spec; what may change in which status is
        ``dialer/editing.py``'s table. The merged spec is validated like a creation
        (ValidationError naming every field at once, refusals included); the event
        ``updated`` lists the changed fields. ``scheduled_at`` schedules a draft, moves a
        scheduled campaign's start, or (null) takes it back to draft."""
        return self._command(id, "update", patch=patch)

    # --- leads ---

    def add_contacts(self, audience_id: str, contacts: builtins.list[dict[str, Any]]
                     ) -> AudienceView:
        """Contacts added to an existing audience, checked like ``create_audience``'s (bad
        rows and phones it already has are in ``rejected``; ``count``: how many were
        added). A removed contact added again comes back. They join every campaign using
        the audience that has not finished, in its current cycle, due at once (event
        ``contacts_added``)."""
        return audience_service.add_members(self.runtime, self.org, str(audience_id),
                                            contacts, source=self._source)

    def add_campaign_contacts(self, campaign_id: str, contacts: builtins.list[dict[str, Any]]
                              ) -> AudienceView:
        """``add_contacts`` to the campaign's audience; InvalidTransition once the campaign
        is completed, stopped or failed."""
        return campaign_commands.add_campaign_contacts(
            self.runtime, self.org, str(campaign_id), contacts, source=self._source)

    def add_campaign_contacts_csv(self, campaign_id: str, csv_path: str | Path,
                                  on_progress: Any = None) -> ImportReport:
        """``import_contacts`` into the campaign's audience, in one transaction that checks
        the campaign under its lock: InvalidTransition (nothing imported) once it is
        completed, stopped or failed."""
        return csv_import.import_campaign_contacts(
            self.runtime, self.org, str(campaign_id), csv_path, source=self._source,
            on_progress=on_progress)

    def requeue_participants(self, id: str, contact_ids: builtins.list[int]) -> int:
        """"Set to created": the contacts pending again with attempts from zero, due at
        once (calendar, DNC and caps still apply); how many. InvalidTransition for a
        contact with a call in flight, a removed contact, or a campaign that is completed,
        stopped or failed; ValidationError naming ``contact_ids`` for contacts that are not
        the campaign's. All or nothing."""
        return campaign_commands.steer_contacts(self.runtime, self.org, str(id), "requeue",
                                                contact_ids, source=self._source)

    def close_participants(self, id: str, contact_ids: builtins.list[int]) -> int:
        """"Set to completed": the contacts never dialed again in this campaign (a queued
        call not yet claimed is withdrawn); how many. Refused like
        ``requeue_participants``."""
        return campaign_commands.steer_contacts(self.runtime, self.org, str(id), "close",
                                                contact_ids, source=self._source)

    # --- calls ---

    def participant_page(self, id: str, page: int = 1, limit: int = 50,
                         status: str | None = None, outcome: str | None = None,
                         attempt: int | None = None, since: datetime | str | None = None,
                         until: datetime | str | None = None) -> ParticipantPage:
        """Page ``page`` (from 1, ``limit`` 1 to 1000) of the participants matching every
        filter given, by contact id: ``status``, ``outcome`` (the last), ``attempt`` (this
        cycle's attempts), ``since``/``until`` (the last attempt; until exclusive)."""
        return call_log.participant_page(
            self.runtime, self.org, str(id), page=page, limit=limit, status=status,
            outcome=outcome, attempt=attempt, since=since, until=until)

    def call_page(self, id: str, page: int = 1, limit: int = 50, status: str | None = None,
                  outcome: str | None = None, attempt: int | None = None,
                  since: datetime | str | None = None, until: datetime | str | None = None
                  ) -> CallPage:
        """Page ``page`` of the calls matching every filter given, in queue order:
        ``status`` (the call's), ``outcome``, ``attempt``, ``since``/``until`` (when the
        call was queued; until exclusive)."""
        return call_log.call_page(
            self.runtime, self.org, str(id), page=page, limit=limit, status=status,
            outcome=outcome, attempt=attempt, since=since, until=until)

    def export_contacts(self, id: str, format: str = "json") -> Iterator[str]:
        """The per-contact export as text chunks (``json`` or ``csv``), streamed: join
        them, or write them as they come. NotFound / ValidationError before any chunk."""
        return call_log.export_contacts(self.runtime, self.org, str(id), format=format)

    def export_calls(self, id: str) -> Iterator[str]:
        """The call log as CSV text chunks, one row per call, streamed."""
        return call_log.export_calls(self.runtime, self.org, str(id))

    def contact_results(self, id: str, with_calls: bool = False) -> Iterator[ContactResult]:
        """Each contact's result in the campaign, by contact id, streamed (what the
        per-contact export writes); with ``with_calls``, each with its calls."""
        return call_log.contact_results(self.runtime, self.org, str(id),
                                        with_calls=with_calls)

    # --- analytics ---

    def funnel(self, id: str) -> FunnelView:
        """Contacts → scheduled → dialed → connected → goal achieved, counts and
        percentages (docs/contract.md, "Analytics", defines each step)."""
        return analytics.funnel(self.runtime, self.org, str(id))

    def heatmap(self, id: str) -> HeatmapView:
        """Calls placed and answer rate per day of week x hour, in the campaign's zone."""
        return analytics.heatmap(self.runtime, self.org, str(id))

    def pickup_by_attempt(self, id: str) -> builtins.list[PickupRow]:
        """Calls placed, answered and the pickup rate per attempt number."""
        return analytics.pickup_by_attempt(self.runtime, self.org, str(id))

    def pickup_by_caller_id(self, id: str) -> builtins.list[PickupRow]:
        """Calls placed, answered and the pickup rate per caller ID, the most used first."""
        return analytics.pickup_by_caller_id(self.runtime, self.org, str(id))

    def execution_summary(self, id: str) -> ExecutionSummary:
        """The campaign's executions per status, and each run's duration and progress."""
        return analytics.execution_summary(self.runtime, self.org, str(id))

    def _command(self, id: str, command: str, **args: Any) -> CampaignView:
        return commands.command(self.runtime, self.org, str(id), command, args,
                                source=self._source)

    def estimate(self, spec: dict[str, Any], *, campaign_id: str | None = None) -> Forecast:
        """The forecast of a spec not yet saved (calls per hour, ETA) for its audience's
        contacts, or, for an edit of ``campaign_id``, for that campaign's open
        participants; ValidationError naming every bad field, as a creation would."""
        return forecasting.estimate(self.runtime, self.org, spec,
                                    None if campaign_id is None else str(campaign_id))

    def remove_phone_number(self, id: str) -> None:
        """Remove a caller ID for good: gone from phone_numbers() and from what campaigns
        may list, never dialed from again; the calls placed from it keep it. NotFound for
        an unknown (or already removed) id; InvalidTransition while a scheduled, running
        or paused campaign lists it. Adding the number again brings it back."""
        rt = self.runtime
        with rt.transaction() as s:
            contact_service.remove_phone_number(s, str(id), org_id=self.org.id,
                                                now=rt.clock.now())


__all__ = ["DialerClient", "ValidationError"]
