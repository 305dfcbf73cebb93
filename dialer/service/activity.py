"""What happened in a campaign after a cursor: the event stream's one read.

The campaign's status is read first, in the same unit of work as the rows: rows
committed together with a terminal status, or before it (the last result completes
the campaign, or the tick after it) are then among the rows. Another organisation's
campaign is NotFound; a deleted one of the caller's answers with ``status`` None and
its rows (a stream says "deleted" after sending what it had not yet sent).
"""

from __future__ import annotations

from dialer.errors import NotFound
from dialer.ids import is_uuid
from dialer.service.runtime import Runtime
from dialer.store import activity
from dialer.views import (
    ActivityCursor,
    ActivityEnded,
    ActivityEvent,
    ActivityPlaced,
    ActivitySkip,
    CampaignActivity,
    OrgRef,
)


def campaign_activity(rt: Runtime, org: OrgRef, campaign_id: str, *, after: ActivityCursor,
                      limit: int) -> CampaignActivity:
    with rt.unit_of_work() as session:
        state = (activity.campaign_status(session, campaign_id, org_id=org.id)
                 if is_uuid(campaign_id) else None)
        if state is None:
            raise NotFound(f"campaign {campaign_id} not found")
        status, deleted_at = state
        return CampaignActivity(
            status=None if deleted_at is not None else status,
            events=[ActivityEvent(**row) for row in activity.events_after(
                session, campaign_id, after.events_after, limit)],
            skips=[ActivitySkip(**row) for row in activity.skips_after(
                session, campaign_id, after.skips_after, limit)],
            placed=[ActivityPlaced(**row) for row in activity.calls_placed_since(
                session, campaign_id, after.placed_since, limit)],
            ended=[ActivityEnded(**row) for row in activity.calls_ended_since(
                session, campaign_id, after.ended_since, limit)])
