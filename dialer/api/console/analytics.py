"""A campaign's analytics (issue 15): the funnel, the day x hour heatmap, pickup by
attempt and by caller ID, and the executions, each drawn as an accessible table (a
<meter> or <progress> beside every figure, the heatmap's shade a class from charts.py).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dialer.api.console.charts import duration, heat_rows
from dialer.api.console.render import fragment, is_htmx, page
from dialer.api.console.session import Session

router = APIRouter()

FUNNEL_LABELS = {"total": "Contacts", "scheduled": "Scheduled", "dialed": "Dialed",
                 "connected": "Connected", "goal_achieved": "Goal achieved"}
HEAT_MEASURES = {"placed": "Calls placed", "answer_rate": "Answer rate"}


@router.get("/campaigns/{campaign_id}/analytics", response_class=HTMLResponse)
def campaign_analytics(request: Request, console: Session, campaign_id: str,
                       heat: Literal["placed", "answer_rate"] = "placed") -> HTMLResponse:
    client = console.client
    heatmap = client.heatmap(campaign_id)
    context: dict[str, Any] = {"campaign_id": campaign_id, "heatmap": heatmap, "heat": heat,
               "heat_label": HEAT_MEASURES[heat], "measures": HEAT_MEASURES,
               "heat_rows": heat_rows(heatmap, heat)}
    if is_htmx(request):
        return fragment(request, "campaigns/_analytics_heatmap.html", console, **context)
    return page(request, "campaigns/analytics.html", console,
                campaign=client.get(campaign_id).campaign, section="analytics",
                funnel=client.funnel(campaign_id), funnel_labels=FUNNEL_LABELS,
                by_attempt=client.pickup_by_attempt(campaign_id),
                by_caller=client.pickup_by_caller_id(campaign_id),
                runs=client.execution_summary(campaign_id), duration=duration, **context)
