"""What a campaign did: participants, calls, events, skips; and what it will do."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.views import CallView, EventView, Forecast, ParticipantView, ReadinessView, SkipView

router = APIRouter(prefix="/campaigns/{campaign_id}", tags=["campaigns"])
NOT_FOUND = responses(404)
TOTAL = "X-Total-Count"


PAGING = ("Without query parameters: every row, as before. With any (a filter, `page` or "
          "`limit`): the matching rows one page at a time (`page` from 1, `limit` 1 to 1000, "
          "default 50). `X-Total-Count` counts every matching row either way.")


class Filters:
    """The query parameters of both lists; ``given``: whether any was."""

    def __init__(
        self,
        status: Annotated[str | None, Query(description="only this status")] = None,
        outcome: Annotated[str | None, Query(description="only this outcome")] = None,
        attempt: Annotated[int | None, Query(description="only this attempt number")] = None,
        since: Annotated[datetime | None, Query(description="at or after (ISO-8601)")] = None,
        until: Annotated[datetime | None, Query(description="before (ISO-8601)")] = None,
        page: Annotated[int | None, Query(description="from 1")] = None,
        limit: Annotated[int | None, Query(description="rows per page, 1 to 1000")] = None,
    ) -> None:
        self.filters: dict[str, Any] = {"status": status, "outcome": outcome,
                                        "attempt": attempt, "since": since, "until": until}
        self.page = 1 if page is None else page
        self.limit = 50 if limit is None else limit
        self.given = any(v is not None for v in (*self.filters.values(), page, limit))


FiltersIn = Annotated[Filters, Depends()]


@router.get("/participants", response_model=list[ParticipantView],
            summary="The campaign's contacts and where each stands, filtered and paged",
            description=PAGING + " `since`/`until`: the last attempt; `attempt`: this "
                                 "cycle's attempts; by contact id.",
            responses={200: ex.ok([ex.PARTICIPANT]), **responses(404, 422)})
def participants(campaign_id: str, client: Client, response: Response,
                 q: FiltersIn) -> list[ParticipantView]:
    if not q.given:
        rows = client.participants(campaign_id)
        response.headers[TOTAL] = str(len(rows))
        return rows
    page = client.participant_page(campaign_id, page=q.page, limit=q.limit, **q.filters)
    response.headers[TOTAL] = str(page.total)
    return page.items


@router.get("/calls", response_model=list[CallView],
            summary="The campaign's call attempts, filtered and paged",
            description=PAGING + " `since`/`until`: when the call was queued; in that order.",
            responses={200: ex.ok([ex.CALL]), **responses(404, 422)})
def calls(campaign_id: str, client: Client, response: Response,
          q: FiltersIn) -> list[CallView]:
    if not q.given:
        rows = client.calls(campaign_id)
        response.headers[TOTAL] = str(len(rows))
        return rows
    page = client.call_page(campaign_id, page=q.page, limit=q.limit, **q.filters)
    response.headers[TOTAL] = str(page.total)
    return page.items


@router.get("/events", response_model=list[EventView], summary="Lifecycle events, oldest first",
            responses={200: ex.ok([ex.EVENT]), **NOT_FOUND})
def events(campaign_id: str, client: Client) -> list[EventView]:
    return client.events(campaign_id)


@router.get("/skips", response_model=list[SkipView],
            summary="Contacts passed over, and why (DNC, window, caps ...)",
            responses={200: ex.ok([ex.SKIP]), **NOT_FOUND})
def skips(campaign_id: str, client: Client) -> list[SkipView]:
    return client.skips(campaign_id)


@router.get("/forecast", response_model=Forecast,
            summary="Calls per hour the settings achieve, and the ETA",
            responses={200: ex.ok(ex.FORECAST), **NOT_FOUND})
def forecast(campaign_id: str, client: Client) -> Forecast:
    return client.forecast(campaign_id)


@router.get("/readiness", response_model=ReadinessView,
            summary="Will it dial? Every condition for placing a call, and which fails",
            responses={200: ex.ok(ex.READINESS), **NOT_FOUND})
def readiness(campaign_id: str, client: Client) -> ReadinessView:
    return client.readiness(campaign_id)
