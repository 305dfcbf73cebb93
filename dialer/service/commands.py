"""A lifecycle command from the client or the CLI, answered with the campaign as it
is afterwards. The commands themselves are steps/campaign_commands.py (remote
control carries them out too)."""

from __future__ import annotations

from typing import Any

from dialer.service.runtime import Runtime
from dialer.service.steps.campaign_commands import run_command
from dialer.service.steps.campaign_state import load_campaign
from dialer.service.steps.campaign_views import campaign_view
from dialer.views import CampaignView, OrgRef


def command(rt: Runtime, org: OrgRef, campaign_id: str, name: str, args: dict[str, Any], *,
            source: str) -> CampaignView:
    run_command(rt, org, campaign_id, name, args, source=source)
    with rt.unit_of_work() as session:
        return campaign_view(session, load_campaign(session, campaign_id, org_id=org.id))


def delete(rt: Runtime, org: OrgRef, campaign_id: str, *, source: str) -> None:
    run_command(rt, org, campaign_id, "delete", {}, source=source)
