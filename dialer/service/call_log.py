"""Every call visible: filtered pages of a campaign's participants and calls, and the
exports (per contact, JSON or CSV; the call log, CSV) streamed a chunk at a time.

An export is checked before it streams (an unknown or foreign campaign is NotFound
while an HTTP answer can still say 404), then reads through a server-side cursor in
its own unit of work, held until the consumer finishes or drops the iterator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from operator import attrgetter
from typing import Any

from dialer import statuses as st
from dialer.errors import ValidationError
from dialer.export_format import CALL_COLUMNS, CONTACT_COLUMNS, csv_text
from dialer.service.runtime import Runtime
from dialer.service.steps.call_rows import call_view, participant_view
from dialer.service.steps.campaign_state import load_campaign
from dialer.store import call_log
from dialer.views import CallPage, CallView, ContactResult, OrgRef, ParticipantPage

MAX_LIMIT = 1000
# attempts are an integer column: a larger filter matches nothing and would overflow.
MAX_ATTEMPT = 2**31 - 1
MAX_PAGE = 1_000_000  # with the largest limit, an offset PostgreSQL still reads
# Rows per fetch from the server-side cursor, and per chunk handed on: what an export
# holds in memory at once (about 1 MB at 250 calls, measured with tracemalloc).
CHUNK_ROWS = 250
EXPORT_FORMATS = ("json", "csv")


def participant_page(rt: Runtime, org: OrgRef, campaign_id: str, *, page: int, limit: int,
                     status: str | None, outcome: str | None, attempt: int | None,
                     since: datetime | str | None, until: datetime | str | None
                     ) -> ParticipantPage:
    since_at, until_at = _check(page=page, limit=limit, status=status,
                                statuses=st.ParticipantStatus, outcome=outcome,
                                attempt=attempt, min_attempt=0, since=since, until=until)
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        rows, total = call_log.participant_page(
            session, campaign.id, status=status, outcome=outcome, attempt=attempt,
            since=since_at, until=until_at, skip=(page - 1) * limit, take=limit)
    return ParticipantPage(items=[participant_view(r) for r in rows], total=total,
                           page=page, limit=limit)


def call_page(rt: Runtime, org: OrgRef, campaign_id: str, *, page: int, limit: int,
              status: str | None, outcome: str | None, attempt: int | None,
              since: datetime | str | None, until: datetime | str | None) -> CallPage:
    since_at, until_at = _check(page=page, limit=limit, status=status,
                                statuses=st.CallStatus, outcome=outcome, attempt=attempt,
                                min_attempt=1, since=since, until=until)
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        rows, total = call_log.call_page(
            session, campaign.id, status=status, outcome=outcome, attempt=attempt,
            since=since_at, until=until_at, skip=(page - 1) * limit, take=limit)
    return CallPage(items=[call_view(r) for r in rows], total=total, page=page, limit=limit)


def _check(*, page: int, limit: int, status: str | None, statuses: type[st.StrEnum],
           outcome: str | None, attempt: int | None, min_attempt: int,
           since: datetime | str | None, until: datetime | str | None
           ) -> tuple[datetime | None, datetime | None]:
    """Every bad filter named at once (ValidationError); the instants parsed."""
    errors: list[tuple[str, str]] = []
    if not 1 <= page <= MAX_PAGE:
        errors.append(("page", f"must be from 1 to {MAX_PAGE:,}"))
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(("limit", f"must be from 1 to {MAX_LIMIT}"))
    if status is not None and status not in set(statuses):
        errors.append(("status", f"one of {', '.join(statuses)}"))
    if outcome is not None and outcome not in st.OUTCOMES:
        errors.append(("outcome", f"one of {', '.join(st.OUTCOMES)}"))
    if attempt is not None and not min_attempt <= attempt <= MAX_ATTEMPT:
        errors.append(("attempt", f"must be from {min_attempt} to {MAX_ATTEMPT:,}"))
    instants: dict[str, datetime | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            instants[name] = _instant(value)
        except ValueError as exc:
            errors.append((name, str(exc)))
    after, before = instants.get("since"), instants.get("until")
    if after is not None and before is not None and before <= after:
        errors.append(("until", "must be after since"))
    if errors:
        raise ValidationError(errors)
    return after, before


def _instant(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO-8601 date and time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone offset")
    return value


# -- exports ---------------------------------------------------------------------------------

def export_calls(rt: Runtime, org: OrgRef, campaign_id: str, *,
                 chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The call log as CSV text chunks: a header, then one row per call (CALL_COLUMNS),
    in queue order."""
    campaign, _ = _checked(rt, org, campaign_id)

    def chunks() -> Iterator[str]:
        yield csv_text([CALL_COLUMNS])
        with rt.unit_of_work() as session:
            for rows in call_log.stream_calls(session, campaign, chunk_rows=chunk_rows):
                yield csv_text(_call_cells(row) for row in rows)

    return chunks()


# CALL_COLUMNS as the row names them (store/call_log.py): the CSV is written from the rows,
# without a view per call, and keeps the stored cost's every digit.
_CALL_ROW = {"call_id": "id", "phone": "to_number"}
_call_cells = attrgetter(*(_CALL_ROW.get(name, name) for name in CALL_COLUMNS))


def contact_results(rt: Runtime, org: OrgRef, campaign_id: str, *, with_calls: bool = False,
                    chunk_rows: int = CHUNK_ROWS) -> Iterator[ContactResult]:
    """Each participant's result, by contact id (with its calls when ``with_calls``)."""
    campaign, _ = _checked(rt, org, campaign_id)

    def results() -> Iterator[ContactResult]:
        with rt.unit_of_work() as session:
            for rows in call_log.stream_contact_results(
                    session, campaign, with_calls=with_calls, chunk_rows=chunk_rows):
                yield from (_contact_result(row, with_calls=with_calls) for row in rows)

    return results()


def export_contacts(rt: Runtime, org: OrgRef, campaign_id: str, *, format: str = "json",
                    chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """Per contact, as text chunks: CSV (a header, then CONTACT_COLUMNS per contact) or
    one JSON document ``{campaign_id, campaign, exported_at, total, contacts: [...]}``."""
    if format not in EXPORT_FORMATS:
        raise ValidationError([("format", f"one of {', '.join(EXPORT_FORMATS)}")])
    campaign, name = _checked(rt, org, campaign_id)
    if format == "csv":
        return _contacts_csv(rt, campaign, chunk_rows)
    return _contacts_json(rt, campaign, name, chunk_rows)


# CONTACT_COLUMNS as the row names them: written from the rows, the cost's every digit.
_contact_cells = attrgetter(*("n_calls" if name == "attempts" else name
                              for name in CONTACT_COLUMNS))


def _contacts_csv(rt: Runtime, campaign_id: str, chunk_rows: int) -> Iterator[str]:
    yield csv_text([CONTACT_COLUMNS])
    with rt.unit_of_work() as session:
        for rows in call_log.stream_contact_results(session, campaign_id, with_calls=False,
                                                    chunk_rows=chunk_rows):
            yield csv_text(_contact_cells(row) for row in rows)


def _contacts_json(rt: Runtime, campaign_id: str, name: str,
                   chunk_rows: int) -> Iterator[str]:
    with rt.unit_of_work() as session:
        total = call_log.participant_count(session, campaign_id)
        head = {"campaign_id": campaign_id, "campaign": name,
                "exported_at": rt.clock.now().isoformat(), "total": total}
        yield json.dumps(head)[:-1] + ', "contacts": ['
        first = True
        for rows in call_log.stream_contact_results(session, campaign_id, with_calls=False,
                                                    chunk_rows=chunk_rows):
            items = ", ".join(_contact_result(r, with_calls=False).model_dump_json(
                exclude={"calls"}) for r in rows)
            if items:
                yield items if first else ", " + items
                first = False
    yield "]}\n"


def _contact_result(row: Any, *, with_calls: bool) -> ContactResult:
    return ContactResult(
        contact_id=row.contact_id, phone=row.phone, name=row.name,
        attributes=row.attributes or {}, status=row.status, last_outcome=row.last_outcome,
        answered_phone=row.answered_phone, attempts=int(row.n_calls),
        total_duration_s=row.total_duration_s,
        total_cost=None if row.total_cost is None else float(row.total_cost),
        goal_achieved=row.goal_achieved, last_attempt_at=row.last_attempt_at,
        calls=[CallView.model_validate(c) for c in row.calls or []] if with_calls else None)


def _checked(rt: Runtime, org: OrgRef, campaign_id: str) -> tuple[str, str]:
    """The campaign's id and name once it is the organisation's (NotFound otherwise)."""
    with rt.unit_of_work() as session:
        campaign = load_campaign(session, campaign_id, org_id=org.id)
        return campaign.id, campaign.name
