"""The reads behind list screens: campaigns and DNC entries a page at a time, the counts
a campaign's summary shows, and which live campaigns use each audience.

Paged in SQL: a page costs the same however many rows there are. Every read is the
organisation's rows only.
"""

from __future__ import annotations

from dialer.errors import ValidationError
from dialer.service.runtime import Runtime
from dialer.service.steps.campaign_views import campaign_view
from dialer.statuses import CAMPAIGN_STATUSES
from dialer.store import campaign_pages
from dialer.store import dnc as dnc_store
from dialer.text import CONTAINS_NUL
from dialer.views import (
    CampaignFacts,
    CampaignPage,
    CampaignRef,
    DncEntryView,
    DncPage,
    OrgRef,
)

CAMPAIGN_SORT = {"created_at", "updated_at"}
DNC_SORT = {"added_at", "phone"}


def campaign_page(rt: Runtime, org: OrgRef, *, page: int, limit: int, status: str | None,
                  search: str | None, sort: str) -> CampaignPage:
    """``sort``: a field, newest (largest) first; ``-`` before it for ascending (as
    ``DialerClient.list``). A status that is not ours matches nothing."""
    if search is not None and "\x00" in search:  # PostgreSQL text holds no NUL
        raise ValidationError([("search", CONTAINS_NUL)])
    field = _sort_field(sort, CAMPAIGN_SORT)
    with rt.unit_of_work() as session:
        rows, matching, total = campaign_pages.page(
            session, org_id=org.id, status=status, search=search, sort_by=field,
            descending=not sort.startswith("-"), skip=page_skip(page, limit), take=limit)
        return CampaignPage(campaigns=[campaign_view(session, c) for c in rows],
                            matching=matching, total=total)


def campaign_facts(rt: Runtime, org: OrgRef, ids: list[str]) -> dict[str, CampaignFacts]:
    """Per id asked for: the counts of that campaign (zeros for an id that is not one of
    the organisation's campaigns)."""
    if not ids:
        return {}
    with rt.unit_of_work() as session:
        everyone, canceled = campaign_pages.participant_totals(session, org_id=org.id, ids=ids)
        retries = campaign_pages.retries_placed(session, org_id=org.id, ids=ids)
        last = campaign_pages.last_pause_and_failure(session, org_id=org.id, ids=ids)
        names = campaign_pages.audience_names(session, org_id=org.id, ids=ids)
        called = campaign_pages.contacts_called(session, org_id=org.id, ids=ids)
    out = {}
    for campaign_id in ids:
        paused = last.get((campaign_id, "paused"))
        failed = last.get((campaign_id, "failed"))
        out[campaign_id] = CampaignFacts(
            participants=int(everyone.get(campaign_id, 0)),
            retry_attempts=int(retries.get(campaign_id, 0)),
            cancelled=int(canceled.get(campaign_id, 0)),
            paused_at=paused[0] if paused else None,
            failed_at=failed[0] if failed else None, error=failed[1] if failed else None,
            audience_name=names.get(campaign_id),
            contacts_called=int(called.get(campaign_id, 0)))
    return out


def campaign_status_counts(rt: Runtime, org: OrgRef) -> dict[str, int]:
    """Every campaign status → how many of the organisation's live campaigns have it
    (zero included), in the order of ``CAMPAIGN_STATUSES``."""
    with rt.unit_of_work() as session:
        counts = campaign_pages.status_counts(session, org_id=org.id)
    return {str(status): counts.get(str(status), 0) for status in CAMPAIGN_STATUSES}


def audience_campaigns(rt: Runtime, org: OrgRef) -> dict[str, list[CampaignRef]]:
    """Audience id → the live campaigns using it, oldest first."""
    out: dict[str, list[CampaignRef]] = {}
    with rt.unit_of_work() as session:
        for c in campaign_pages.live_by_audience(session, org_id=org.id):
            out.setdefault(str(c.audience_id), []).append(CampaignRef(
                id=c.id, name=c.name, status=c.status, created_at=c.created_at))
    return out


def dnc_page(rt: Runtime, org: OrgRef, *, page: int, limit: int, search: str | None,
             sort: str) -> DncPage:
    """``sort``: ``added_at`` or ``phone``, largest first; ``-`` before it for ascending."""
    field = _sort_field(sort, DNC_SORT)
    with rt.unit_of_work() as session:
        rows, total = dnc_store.page(
            session, org_id=org.id, search=search, sort_by=field,
            descending=not sort.startswith("-"), skip=page_skip(page, limit), take=limit)
    return DncPage(entries=[DncEntryView(phone=r.phone, added_at=r.added_at) for r in rows],
                   total=total)


def _sort_field(sort: str, allowed: set[str]) -> str:
    field = sort.lstrip("-")
    if field not in allowed:
        raise ValidationError([("sort", f"one of {', '.join(sorted(allowed))}")])
    return field


def page_skip(page: int, limit: int) -> int:
    """Rows before page ``page`` (from 1) of ``limit`` rows."""
    errors = [(name, "must be at least 1") for name, value in (("page", page), ("limit", limit))
              if value < 1]
    if errors:
        raise ValidationError(errors)
    return (page - 1) * limit
