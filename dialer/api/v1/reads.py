"""What a campaign did: participants, calls, events, skips; and what it will do."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.views import CallView, EventView, Forecast, ParticipantView, ReadinessView, SkipView

router = APIRouter(prefix="/campaigns/{campaign_id}", tags=["campaigns"])
NOT_FOUND = responses(404)


@router.get("/participants", response_model=list[ParticipantView],
            summary="Every contact of the campaign and where it stands",
            responses={200: ex.ok([ex.PARTICIPANT]), **NOT_FOUND})
def participants(campaign_id: str, client: Client) -> list[ParticipantView]:
    return client.participants(campaign_id)


@router.get("/calls", response_model=list[CallView], summary="Every call attempt",
            responses={200: ex.ok([ex.CALL]), **NOT_FOUND})
def calls(campaign_id: str, client: Client) -> list[CallView]:
    return client.calls(campaign_id)


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
