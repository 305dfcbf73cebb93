"""A campaign's analytics (docs/api.md, "Analytics"): the funnel, the week's heatmap, the
pickup rates and the executions, as the client returns them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.views import ExecutionSummary, FunnelView, HeatmapView, PickupRow

router = APIRouter(prefix="/campaigns/{campaign_id}", tags=["analytics"])
NOT_FOUND = responses(404)


@router.get("/analytics/funnel", response_model=FunnelView,
            summary="Contacts → scheduled → dialed → connected → goal achieved",
            description="Counts and percentages; each step is defined in docs/contract.md "
                        "(\"Analytics\").",
            responses={200: ex.ok(ex.FUNNEL), **NOT_FOUND})
def funnel(campaign_id: str, client: Client) -> FunnelView:
    return client.funnel(campaign_id)


@router.get("/analytics/heatmap", response_model=HeatmapView,
            summary="Calls placed and answer rate per day of week x hour, in the campaign's zone",
            description="All 168 cells, Monday 00h first (`dow` 0 = Monday).",
            responses={200: ex.ok(ex.HEATMAP), **NOT_FOUND})
def heatmap(campaign_id: str, client: Client) -> HeatmapView:
    return client.heatmap(campaign_id)


@router.get("/analytics/pickup", response_model=list[PickupRow],
            summary="Pickup rate per attempt number or per caller ID",
            responses={200: ex.ok(ex.PICKUP), **responses(404, 422)})
def pickup(campaign_id: str, client: Client,
           by: Annotated[Literal["attempt", "caller_id"], Query(
               description="`attempt`: one row per attempt number, in order; `caller_id`: "
                           "one per caller ID, the most used first")] = "attempt",
           ) -> list[PickupRow]:
    if by == "caller_id":
        return client.pickup_by_caller_id(campaign_id)
    return client.pickup_by_attempt(campaign_id)


@router.get("/executions", response_model=ExecutionSummary,
            summary="The campaign's runs per status, each with its duration and progress",
            responses={200: ex.ok(ex.EXECUTIONS), **NOT_FOUND})
def executions(campaign_id: str, client: Client) -> ExecutionSummary:
    return client.execution_summary(campaign_id)
