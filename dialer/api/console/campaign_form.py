"""Create and edit a campaign (issue 15): one form with the spec's sections, validated
by the API's own rules, and a live calls-per-hour/ETA estimate of the unsaved values.

Inputs are named by the spec's dotted paths (spec_form.py maps the form to a spec
dict and back), so every ValidationError is shown next to the input it names. An
edit sends only the fields whose value changed and that may change in the
campaign's status (dialer/editing.py); the others are shown read-only with why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from dialer.api.console import spec_form
from dialer.api.console.render import fragment, page, redirect
from dialer.api.console.session import Console, Session
from dialer.errors import InvalidTransition, ValidationError
from dialer.spec import CampaignSpec
from dialer.views import CampaignView

router = APIRouter()
NEW = "/campaigns/new"


async def posted_values(request: Request) -> spec_form.FormValues:
    """The posted form as ``{name: [values]}`` (read once; the session's CSRF check
    reads the same parsed form)."""
    form = await request.form()
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


Posted = Annotated[spec_form.FormValues, Depends(posted_values)]


@router.get(NEW, response_class=HTMLResponse)
def new_campaign(request: Request, console: Session) -> HTMLResponse:
    defaults = CampaignSpec(name="x").model_dump(mode="json")
    return _form(request, console, None, spec_form.new_form_values(defaults))


@router.post(NEW, response_class=HTMLResponse)
def create_campaign(request: Request, console: Session, values: Posted) -> Response:
    try:
        created = console.client.create_campaign(spec_form.spec_from_form(values))
    except ValidationError as exc:
        return _form(request, console, None, values, exc.errors)
    except InvalidTransition as exc:
        return _form(request, console, None, values, [(exc.field, str(exc))])
    return redirect(f"/console/campaigns/{created.id}")


@router.get("/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
def edit_campaign(request: Request, campaign_id: str, console: Session,
                  saved: Annotated[bool, Query()] = False,
                  unchanged: Annotated[bool, Query()] = False) -> HTMLResponse:
    campaign = console.client.get(campaign_id).campaign
    notice = "Saved" if saved else "Nothing to save: no field changed" if unchanged else None
    return _form(request, console, campaign, spec_form.form_values(_stored(campaign)),
                 notice=notice)


@router.post("/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
def update_campaign(request: Request, campaign_id: str, console: Session,
                    values: Posted) -> Response:
    campaign = console.client.get(campaign_id).campaign
    current = spec_form.form_values(_stored(campaign))
    # What the form showed when it was rendered: a field left as shown is not sent, so
    # a change made elsewhere since then stays (a post without it compares with now).
    shown = spec_form.shown_from(values) or current
    locked = _locks(campaign)
    changes = spec_form.patch(shown, values, locked)
    if not changes:
        return redirect(f"/console/campaigns/{campaign.id}/edit?unchanged=1")
    try:
        console.client.update_campaign(campaign.id, changes)
    except (ValidationError, InvalidTransition) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else [(exc.field, str(exc))]
        again = spec_form.shown_values(values, current, locked)
        return _form(request, console, campaign, again, errors, shown=shown)
    return redirect(f"/console/campaigns/{campaign.id}/edit?saved=1")


@router.post("/campaigns/estimate", response_class=HTMLResponse)
def estimate(request: Request, console: Session, values: Posted,
             campaign: Annotated[str | None, Query()] = None) -> HTMLResponse:
    """The estimate box's content for the form's unsaved values (htmx swaps it in); an
    edit form names its ``campaign``, whose open participants are estimated."""
    spec = spec_form.estimate_spec(values)
    context: dict[str, Any] = {"forecast": None, "missing": [], "zone": spec.get("timezone")}
    if not spec.get("audience_id"):
        context["missing"] = [("Audience", "choose one to see an estimate")]
    else:
        try:
            context["forecast"] = console.client.estimate(spec, campaign_id=campaign)
        except ValidationError as exc:
            _, summary = spec_form.place_errors(exc.errors)
            context["missing"] = [(what, message) for _, what, message in summary]
    return fragment(request, "campaigns/_estimate.html", console, **context)


def _stored(campaign: CampaignView) -> dict[str, Any]:
    """The spec as stored, with the start the campaign waits for (a recurring one keeps
    its next start in its column)."""
    at = campaign.scheduled_at
    return {**campaign.spec, "scheduled_at": None if at is None else at.isoformat()}


def _locks(campaign: CampaignView) -> dict[str, str]:
    return spec_form.locks(campaign.status, agent_set=bool(campaign.agent_id),
                           has_run=bool(campaign.executions))


def _form(request: Request, console: Console, campaign: CampaignView | None,
          values: spec_form.FormValues, errors: list[tuple[str, str]] | None = None, *,
          notice: str | None = None, shown: spec_form.FormValues | None = None
          ) -> HTMLResponse:
    """The form page. ``shown``: the values an edit form was first rendered with (kept
    through a refusal, so the next save still compares with them)."""
    field_errors, summary = spec_form.place_errors(errors or [])
    locked = {} if campaign is None else _locks(campaign)
    audiences = [(a.id, a.name, a.count) for a in console.client.audiences()]
    numbers = [(n.id, n.number, n.is_active) for n in console.client.phone_numbers()]
    return page(
        request, "campaigns/form.html", console, status_code=422 if errors else 200,
        campaign=campaign, values=values, shown_field=spec_form.SHOWN,
        shown_json=None if campaign is None else spec_form.shown_json(shown or values),
        field_errors=field_errors, summary=summary,
        locked=locked, notice=notice, labels=spec_form.LABELS, input_id=spec_form.input_id,
        audience_options=spec_form.audience_choices(audiences),
        number_options=spec_form.number_choices(numbers, values.get("phone_number_ids", [])),
        zone_options=spec_form.zone_choices((values.get("timezone") or [""])[0]),
        days=spec_form.DAY_NAMES, presets=spec_form.preset_choices(),
        recurrence_options=spec_form.RECURRENCE_CHOICES)
