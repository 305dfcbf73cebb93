"""Read models: campaign views, metrics, participants, calls, events, skips."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.errors import ValidationError
from dialer.service.steps.call_rows import call_view, participant_view
from dialer.service.steps.campaign_state import load_campaign
from dialer.service.steps.campaign_views import campaign_view
from dialer.service.steps.tenancy import DEFAULT_ORG_NAME
from dialer.store import reads, requests
from dialer.store.campaign_members import participant_counts
from dialer.views import (
    AudienceSummary,
    CallView,
    CampaignDetail,
    CampaignView,
    EventView,
    Metrics,
    OrgRef,
    ParticipantView,
    RejectedRequestView,
    SkipView,
)

SORTABLE = {"created_at", "updated_at", "name", "priority", "status"}


def metrics(session: Session, campaign_id: str) -> Metrics:
    by_status = participant_counts(session, campaign_id)
    outcomes = reads.outcome_counts(session, campaign_id)
    called, connected, placed, in_progress = reads.call_totals(session, campaign_id)
    return Metrics(
        total_participants=sum(by_status.values()), contacts_called=called,
        contacts_connected=connected, calls_placed=placed, in_progress=in_progress,
        # A channel is held exactly while a call is dialing or placed.
        channels_in_use=in_progress, outcomes=outcomes, by_status=by_status,
    )


def campaign_detail(session: Session, campaign_id: str, *, org_id: str) -> CampaignDetail:
    campaign = load_campaign(session, campaign_id, org_id=org_id)
    return CampaignDetail(campaign=campaign_view(session, campaign),
                          metrics=metrics(session, campaign.id))


def list_campaigns(session: Session, *, org_id: str, status: str | None,
                   sort: str) -> list[CampaignView]:
    field = sort.lstrip("-")
    errors = []
    if field not in SORTABLE:
        errors.append(("sort", f"one of {', '.join(sorted(SORTABLE))}"))
    if status is not None and status not in st.CAMPAIGN_STATUSES:
        errors.append(("status", f"one of {', '.join(st.CAMPAIGN_STATUSES)}"))
    if errors:
        raise ValidationError(errors)
    # Newest (or largest) first, as the contract says, unless "-field" asks otherwise.
    return [campaign_view(session, c) for c in reads.campaigns(
        session, org_id=org_id, status=status, sort_by=field, descending=not sort.startswith("-"))]


def participants(session: Session, campaign_id: str, *, org_id: str) -> list[ParticipantView]:
    campaign = load_campaign(session, campaign_id, org_id=org_id)
    return [participant_view(p) for p in reads.participants(session, campaign.id)]


def calls(session: Session, campaign_id: str, *, org_id: str) -> list[CallView]:
    campaign = load_campaign(session, campaign_id, org_id=org_id)
    return [call_view(c) for c in reads.calls(session, campaign.id)]


def events(session: Session, campaign_id: str, *, org_id: str) -> list[EventView]:
    campaign = load_campaign(session, campaign_id, org_id=org_id)
    return [EventView(at=e.at, source=e.source, action=e.action, detail=e.detail)
            for e in reads.events(session, campaign.id)]


def skips(session: Session, campaign_id: str, *, org_id: str) -> list[SkipView]:
    campaign = load_campaign(session, campaign_id, org_id=org_id)
    return [SkipView(at=s.at, contact_id=contact_id, phone=phone, reason=s.reason,
                     detail=s.detail) for s, contact_id, phone in reads.skips(session, campaign.id)]


def audiences(session: Session, *, org_id: str) -> list[AudienceSummary]:
    return [AudienceSummary(id=a.id, name=a.name, count=int(n), created_at=a.created_at)
            for a, n in reads.audiences_with_counts(session, org_id=org_id)]


def rejected_requests(session: Session, *, org: OrgRef, limit: int
                      ) -> list[RejectedRequestView]:
    """The organisation's most recent remote requests refused for bad input, newest
    first. ``default``, the deployment's own organisation, also sees those whose
    organisation could not be told."""
    return [RejectedRequestView(id=r.id, at=r.at, task=r.task, external_id=r.external_id,
                                errors=r.errors, payload=r.payload)
            for r in requests.recent_rejected(
                session, org_id=org.id, include_unowned=org.name == DEFAULT_ORG_NAME,
                limit=limit)]
