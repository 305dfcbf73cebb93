"""Read models: campaign views, metrics, participants, calls, events, skips."""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from dialer import statuses as st
from dialer.errors import ValidationError
from dialer.service.steps.campaign_state import load_campaign
from dialer.statuses import ParticipantStatus as P
from dialer.views import (
    AudienceSummary,
    CallView,
    CampaignDetail,
    CampaignView,
    EventView,
    ExecutionView,
    Metrics,
    ParticipantView,
    RejectedRequestView,
    SkipView,
)
from models.tables import (
    Audience,
    Call,
    Campaign,
    Contact,
    Event,
    Execution,
    Participant,
    RejectedRequest,
    SkipRecord,
)

SORTABLE = {"created_at", "updated_at", "name", "priority", "status"}


def campaign_view(session: Session, campaign: Campaign) -> CampaignView:
    return CampaignView(
        id=campaign.id, name=campaign.name, description=campaign.description,
        status=campaign.status, pause_reason=campaign.pause_reason, agent_id=campaign.agent_id,
        audience_id=campaign.audience_id, phone_number_ids=list(campaign.phone_number_ids or []),
        scheduled_at=campaign.scheduled_at, timezone=campaign.timezone,
        priority=campaign.priority, external_id=campaign.external_id,
        channels=campaign.channels, breaker_open=campaign.breaker_open,
        created_at=campaign.created_at, updated_at=campaign.updated_at, spec=campaign.spec,
        executions=executions(session, campaign.id),
    )


def executions(session: Session, campaign_id: str) -> list[ExecutionView]:
    processed = (
        select(Call.execution_number, func.count(distinct(Call.participant_id)).label("n"),
               func.count(distinct(Call.participant_id)).filter(
                   Participant.status == P.FAILED).label("failed"))
        .join(Participant, Participant.id == Call.participant_id)
        .where(Call.campaign_id == campaign_id, Call.status == st.CallStatus.ENDED)
        .group_by(Call.execution_number).subquery())
    rows = session.execute(
        select(Execution, func.coalesce(processed.c.n, 0), func.coalesce(processed.c.failed, 0))
        .outerjoin(processed, processed.c.execution_number == Execution.execution_number)
        .where(Execution.campaign_id == campaign_id).order_by(Execution.execution_number)).all()
    return [ExecutionView(
        execution_number=e.execution_number, status=e.status, started_at=e.started_at,
        ended_at=e.ended_at, total_members=e.total_members, processed_members=int(n),
        failed_members=int(failed)) for e, n, failed in rows]


def metrics(session: Session, campaign_id: str) -> Metrics:
    by_status = dict(session.execute(
        select(Participant.status, func.count()).where(Participant.campaign_id == campaign_id)
        .group_by(Participant.status)).all())
    outcomes = dict(session.execute(
        select(Call.outcome, func.count()).where(Call.campaign_id == campaign_id,
                                                 Call.outcome.is_not(None))
        .group_by(Call.outcome)).all())
    called, connected, placed, in_progress = session.execute(
        select(
            func.count(distinct(Call.contact_id)).filter(Call.placed_at.is_not(None)),
            func.count(distinct(Call.contact_id)).filter(Call.outcome == st.Outcome.ANSWERED),
            func.count().filter(Call.placed_at.is_not(None)),
            func.count().filter(Call.status.in_(st.CALL_HOLDING_CHANNEL)),
        ).where(Call.campaign_id == campaign_id)).one()
    return Metrics(
        total_participants=sum(by_status.values()), contacts_called=called,
        contacts_connected=connected, calls_placed=placed, in_progress=in_progress,
        # A channel is held exactly while a call is dialing or placed.
        channels_in_use=in_progress, outcomes={k: int(v) for k, v in outcomes.items()},
        by_status={k: int(v) for k, v in by_status.items()},
    )


def campaign_detail(session: Session, campaign_id: str) -> CampaignDetail:
    campaign = load_campaign(session, campaign_id)
    return CampaignDetail(campaign=campaign_view(session, campaign),
                          metrics=metrics(session, campaign.id))


def list_campaigns(session: Session, *, status: str | None, sort: str) -> list[CampaignView]:
    field = sort.lstrip("-")
    errors = []
    if field not in SORTABLE:
        errors.append(("sort", f"one of {', '.join(sorted(SORTABLE))}"))
    if status is not None and status not in st.CAMPAIGN_STATUSES:
        errors.append(("status", f"one of {', '.join(st.CAMPAIGN_STATUSES)}"))
    if errors:
        raise ValidationError(errors)
    column = getattr(Campaign, field)
    # Newest (or largest) first, as the contract says, unless "-field" asks otherwise.
    order = column.asc() if sort.startswith("-") else column.desc()
    query = select(Campaign).where(Campaign.deleted_at.is_(None)).order_by(order, Campaign.id)
    if status is not None:
        query = query.where(Campaign.status == status)
    return [campaign_view(session, c) for c in session.scalars(query)]


def participants(session: Session, campaign_id: str) -> list[ParticipantView]:
    campaign = load_campaign(session, campaign_id)
    rows = session.scalars(select(Participant).where(Participant.campaign_id == campaign.id)
                           .order_by(Participant.id))
    return [ParticipantView(contact_id=p.contact_id, phone=p.phone, status=p.status,
                            attempts=p.attempts, next_attempt_at=p.next_attempt_at,
                            last_outcome=p.last_outcome) for p in rows]


def calls(session: Session, campaign_id: str) -> list[CallView]:
    campaign = load_campaign(session, campaign_id)
    rows = session.scalars(select(Call).where(Call.campaign_id == campaign.id)
                           .order_by(Call.queued_at, Call.attempt, Call.id))
    return [CallView(call_id=c.id, contact_id=c.contact_id, phone=c.to_number,
                     from_number=c.from_number, attempt=c.attempt, placed_at=c.placed_at,
                     ended_at=c.ended_at, outcome=c.outcome, duration_s=c.duration_s)
            for c in rows]


def events(session: Session, campaign_id: str) -> list[EventView]:
    campaign = load_campaign(session, campaign_id)
    rows = session.scalars(select(Event).where(Event.campaign_id == campaign.id)
                           .order_by(Event.id))
    return [EventView(at=e.at, source=e.source, action=e.action, detail=e.detail) for e in rows]


def skips(session: Session, campaign_id: str) -> list[SkipView]:
    campaign = load_campaign(session, campaign_id)
    rows = session.execute(
        select(SkipRecord, Participant.contact_id, Participant.phone)
        .join(Participant, Participant.id == SkipRecord.participant_id)
        .where(SkipRecord.campaign_id == campaign.id).order_by(SkipRecord.id)).all()
    return [SkipView(at=s.at, contact_id=contact_id, phone=phone, reason=s.reason,
                     detail=s.detail) for s, contact_id, phone in rows]


def audiences(session: Session) -> list[AudienceSummary]:
    counts = (select(Contact.audience_id, func.count().label("n"))
              .group_by(Contact.audience_id).subquery())
    rows = session.execute(
        select(Audience, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.audience_id == Audience.id)
        .order_by(Audience.created_at.desc(), Audience.id)).all()
    return [AudienceSummary(id=a.id, name=a.name, count=int(n), created_at=a.created_at)
            for a, n in rows]


def rejected_requests(session: Session, *, limit: int) -> list[RejectedRequestView]:
    """The most recent remote requests refused for bad input, newest first."""
    rows = session.scalars(select(RejectedRequest)
                           .order_by(RejectedRequest.id.desc()).limit(limit))
    return [RejectedRequestView(id=r.id, at=r.at, task=r.task, external_id=r.external_id,
                                errors=r.errors, payload=r.payload) for r in rows]
