"""A campaign's participants and calls as the leads table, the call log and the exports
read them: filtered pages (one query and one count each) and streams.

Rows, not ORM entities (see store/reads.py: four times cheaper per row). The streams
read through a server-side cursor (``yield_per``): PostgreSQL hands the rows over a
chunk at a time, so an export of a million calls holds one chunk in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from models.tables import Call, Contact, Participant


def _phone_index() -> ColumnElement[Any]:
    """Which of the contact's numbers a call dialed: 0 the primary, k the k-th of
    ``secondary_phones``, NULL when it is none of them (calls have no column for it:
    the contact's numbers tell)."""
    numbers = func.jsonb_array_elements_text(Contact.secondary_phones).table_valued(
        "value", with_ordinality="ord").render_derived(name="numbers")
    secondary = (select(numbers.c.ord).where(numbers.c.value == Call.to_number)
                 .order_by(numbers.c.ord).limit(1).scalar_subquery())
    return case((Call.to_number == Contact.phone, 0), else_=secondary)


def _call_columns() -> list[Any]:
    return [Call.id, Call.contact_id, Call.to_number, Call.from_number, Call.attempt,
            Call.placed_at, Call.ended_at, Call.outcome, Call.duration_s, Call.status,
            Call.goal_achieved, Call.detail, Call.provider_call_id,
            _phone_index().label("phone_index"), Call.cycle, Call.execution_number,
            Call.queued_at, Call.recording_url, Call.transcript_url, Call.cost]


CALL_ORDER = (Call.queued_at, Call.attempt, Call.id)


def call_select(campaign_id: str) -> Select[Any]:
    """Every column of a CallView, for the campaign's calls."""
    return (select(*_call_columns()).join(Contact, Contact.id == Call.contact_id)
            .where(Call.campaign_id == campaign_id))


def participant_select(campaign_id: str) -> Select[Any]:
    """Every column of a ParticipantView, for the campaign's participants."""
    columns: list[Any] = [
        Participant.contact_id, Participant.phone, Participant.status, Participant.attempts,
        Participant.next_attempt_at, Participant.last_outcome, Contact.name,
        Participant.phone_index, Participant.phone_attempts, Participant.answered_phone,
        Participant.last_attempt_at, Participant.skip_reason, Participant.cycle]
    return (select(*columns).join(Contact, Contact.id == Participant.contact_id)
            .where(Participant.campaign_id == campaign_id))


def _filters(status_column: Any, outcome_column: Any, attempt_column: Any,
             time_column: Any, *, status: str | None, outcome: str | None,
             attempt: int | None, since: datetime | None,
             until: datetime | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(status_column == status)
    if outcome is not None:
        where.append(outcome_column == outcome)
    if attempt is not None:
        where.append(attempt_column == attempt)
    if since is not None:
        where.append(time_column >= since)
    if until is not None:
        where.append(time_column < until)
    return where


def participant_page(session: Session, campaign_id: str, *, status: str | None,
                     outcome: str | None, attempt: int | None, since: datetime | None,
                     until: datetime | None, skip: int, take: int
                     ) -> tuple[list[Row[Any]], int]:
    """Participants matching every filter given (``outcome``: the last one; ``attempt``:
    this cycle's attempts; ``since``/``until``: the last attempt, until exclusive), by
    contact id (the unique index on campaign and contact serves order and limit), and
    how many match."""
    where = _filters(Participant.status, Participant.last_outcome, Participant.attempts,
                     Participant.last_attempt_at, status=status, outcome=outcome,
                     attempt=attempt, since=since, until=until)
    rows = list(session.execute(participant_select(campaign_id).where(*where)
                                .order_by(Participant.contact_id).offset(skip).limit(take)))
    total = session.scalar(select(func.count()).select_from(Participant).where(
        Participant.campaign_id == campaign_id, *where))
    return rows, int(total or 0)


def call_page(session: Session, campaign_id: str, *, status: str | None, outcome: str | None,
              attempt: int | None, since: datetime | None, until: datetime | None,
              skip: int, take: int) -> tuple[list[Row[Any]], int]:
    """Calls matching every filter given (``since``/``until``: when the call was queued,
    until exclusive), in the order they were queued (ix_calls_campaign_queued), and how
    many match."""
    where = _filters(Call.status, Call.outcome, Call.attempt, Call.queued_at, status=status,
                     outcome=outcome, attempt=attempt, since=since, until=until)
    rows = list(session.execute(call_select(campaign_id).where(*where)
                                .order_by(*CALL_ORDER).offset(skip).limit(take)))
    total = session.scalar(select(func.count()).select_from(Call).where(
        Call.campaign_id == campaign_id, *where))
    return rows, int(total or 0)


def stream_calls(session: Session, campaign_id: str, *,
                 chunk_rows: int) -> Iterator[Sequence[Row[Any]]]:
    """The campaign's calls in queue order, ``chunk_rows`` at a time."""
    result = session.execute(call_select(campaign_id).order_by(*CALL_ORDER)
                             .execution_options(yield_per=chunk_rows))
    yield from result.partitions()


def participant_count(session: Session, campaign_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Participant).where(
        Participant.campaign_id == campaign_id)) or 0)


def stream_contact_results(session: Session, campaign_id: str, *, with_calls: bool,
                           chunk_rows: int) -> Iterator[Sequence[Row[Any]]]:
    """Per participant, by contact id: the contact, where it stands, and the totals of its
    calls (every cycle); with ``with_calls``, its calls too (column ``calls``: a JSON
    list of CallView objects, in cycle and attempt order)."""
    totals: list[Any] = [
        func.count(Call.id).label("n_calls"),
        func.sum(Call.duration_s).label("total_duration_s"),
        func.sum(Call.cost).label("total_cost"),
        func.bool_or(Call.goal_achieved).label("goal_achieved"),
    ]
    if with_calls:
        fields: list[Any] = []
        names = ("call_id", "contact_id", "phone", "from_number", "attempt", "placed_at",
                 "ended_at", "outcome", "duration_s", "status", "goal_achieved", "detail",
                 "provider_call_id", "phone_index", "cycle", "execution_number", "queued_at",
                 "recording_url", "transcript_url", "cost")
        for name, column in zip(names, _call_columns(), strict=True):
            fields += [name, column]
        totals.append(func.jsonb_agg(aggregate_order_by(
            func.jsonb_build_object(*fields), Call.cycle, Call.attempt)).label("calls"))
    per_contact = (select(*totals).where(Call.participant_id == Participant.id)
                   .correlate(Participant, Contact).lateral("per_contact"))
    query = (select(Participant.contact_id, Contact.phone, Contact.name,
                    Contact.attributes, Participant.status, Participant.last_outcome,
                    Participant.answered_phone, Participant.last_attempt_at,
                    *[per_contact.c[column.name] for column in totals])
             .join(Contact, Contact.id == Participant.contact_id)
             .join(per_contact, true())
             .where(Participant.campaign_id == campaign_id)
             .order_by(Participant.contact_id)
             .execution_options(yield_per=chunk_rows))
    yield from session.execute(query).partitions()
