"""Campaigns: create, list, get, change, delete, and the lifecycle commands."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response

from dialer.api import examples as ex
from dialer.api.auth import Client
from dialer.api.errors import responses
from dialer.api.schemas import ChannelsIn
from dialer.api.text import refuse_nul
from dialer.views import CampaignDetail, CampaignView

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

# The spec is taken as a plain object and validated by the service, which checks its
# shape and its references (audience, caller ids) together, so one answer names every
# bad field; the document still shows CampaignSpec (dialer.api.openapi adds it).
SPEC_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/CampaignSpec"},
                         "example": ex.SPEC}}}}
CampaignStatus = Literal["draft", "scheduled", "running", "paused", "completed", "stopped",
                         "failed"]
SORT_PATTERN = r"^-?(created_at|updated_at|name|priority|status)$"
COMMAND_ERRORS = responses(404, 409)


@router.post("", status_code=201, response_model=CampaignView, openapi_extra=SPEC_BODY,
             summary="Create a campaign from a CampaignSpec",
             description="Status `scheduled` when `scheduled_at` is set, else `draft`. "
                         "Every invalid field is listed at once (422).",
             responses={201: ex.ok(ex.CAMPAIGN, "Created"), **responses(400, 413, 422)})
def create_campaign(spec: Annotated[dict[str, Any], Body(include_in_schema=False)],
                    client: Client) -> CampaignView:
    return client.create_campaign(refuse_nul(spec))


@router.get("", response_model=list[CampaignView], summary="List campaigns, newest first",
            responses={200: ex.ok([ex.CAMPAIGN]), **responses(422)})
def list_campaigns(
    client: Client,
    status: Annotated[CampaignStatus | None, Query(description="only this status")] = None,
    sort: Annotated[str, Query(pattern=SORT_PATTERN, description=(
        "the column; descending unless prefixed with `-`"))] = "created_at",
) -> list[CampaignView]:
    return client.list(status=status, sort=sort)


@router.get("/{campaign_id}", response_model=CampaignDetail,
            summary="A campaign with its executions and metrics",
            responses={200: ex.ok(ex.DETAIL), **responses(404)})
def get_campaign(campaign_id: str, client: Client) -> CampaignDetail:
    return client.get(campaign_id)


@router.delete("/{campaign_id}", status_code=204, response_class=Response,
               summary="Delete a campaign that is not running (pause or stop it first)",
               responses=COMMAND_ERRORS)
def delete_campaign(campaign_id: str, client: Client) -> Response:
    client.delete(campaign_id)
    return Response(status_code=204)


PATCH_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {
        "type": "object", "additionalProperties": True,
        "description": "A partial CampaignSpec: objects merge into the stored spec, any other "
                       "value (lists included) replaces it, null clears an optional field."},
        "example": ex.PATCH}}}}


@router.patch("/{campaign_id}", response_model=CampaignView, openapi_extra=PATCH_BODY,
              summary="Change a campaign: a partial spec merged into its own",
              description="What may change depends on the status (docs/contract.md, "
                          "\"Editing a campaign\"): everything in a draft or scheduled "
                          "campaign but the agent once set and `external_id`; schedule, "
                          "pacing, retry, call handling, safety, name and description while "
                          "paused; pacing and `schedule.end_date` while running (the next "
                          "tick uses them); nothing once it has ended. The merged spec is "
                          "validated like a creation: every invalid or unchangeable field is "
                          "listed at once (422) and nothing is changed. `scheduled_at` "
                          "schedules a draft, moves the start, or (null) makes it a draft "
                          "again. The event `updated` lists the changed fields.",
              responses={200: ex.ok(ex.CAMPAIGN), **responses(400, 404, 413, 422)})
def update_campaign(campaign_id: str,
                    patch: Annotated[dict[str, Any], Body(include_in_schema=False)],
                    client: Client) -> CampaignView:
    return client.update_campaign(campaign_id, refuse_nul(patch))


def _command(name: str, summary: str) -> None:
    def run(campaign_id: str, client: Client) -> CampaignView:
        return getattr(client, name.replace("-", "_"))(campaign_id)

    run.__name__ = name.replace("-", "_") + "_campaign"
    router.post(f"/{{campaign_id}}/{name}", response_model=CampaignView, summary=summary,
                responses={200: ex.ok(ex.CAMPAIGN), **COMMAND_ERRORS})(run)


_command("start", "Start a draft or scheduled campaign")
_command("pause", "Pause a running campaign: calls in progress finish")
_command("resume", "Resume a paused campaign where it left off")
_command("stop", "Stop a campaign for good: pending contacts are canceled")
_command("reset-breaker", "Close a tripped circuit breaker (the campaign stays paused)")


@router.put("/{campaign_id}/channels", response_model=CampaignView,
            summary="Set the campaign's concurrent channels (capped by the organisation's)",
            responses={200: ex.ok(ex.CAMPAIGN), **responses(400, 404, 409, 413, 422)})
def allocate_channels(campaign_id: str, body: ChannelsIn, client: Client) -> CampaignView:
    return client.allocate_channels(campaign_id, body.channels)
