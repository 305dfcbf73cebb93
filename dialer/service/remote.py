"""Remote control through Celery (docs/contract.md §5): never raise into a retry loop.

Bad requests are logged with their field errors and kept in
``rejected_requests`` so that a person can list them, once per task id.
Each request acts for the organisation it names (``org``, default ``default``): one
that names none that exists is refused with the field ``org``. Every task may be
delivered more than once: ``enqueue_campaign`` is
idempotent on ``spec.external_id`` or else on its task id, and a
``campaign_command`` is carried out at most once per task id.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dialer.errors import DialerError, InvalidTransition, NotFound, ValidationError
from dialer.service.runtime import Runtime
from dialer.service.steps import campaign_commands as commands
from dialer.service.steps.audience_intake import create_audience
from dialer.service.steps.campaign_creation import create_campaign
from dialer.service.steps.tenancy import DEFAULT_ORG_NAME, org_named
from dialer.statuses import EventSource
from dialer.store import campaigns, requests
from dialer.task_args import payload_summary, summarize
from dialer.views import AudienceView, OrgRef

log = logging.getLogger(__name__)


def refuse_arguments(rt: Runtime, task: str, request_id: str | None, exc: ValidationError,
                     args: Any, kwargs: Any) -> dict[str, Any]:
    """Arguments that failed ``dialer.task_args``: recorded, nothing applied."""
    spec = kwargs.get("spec") if isinstance(kwargs, dict) else None
    external_id = spec.get("external_id") if isinstance(spec, dict) else None
    org_name = kwargs.get("org") if isinstance(kwargs, dict) else None
    _reject(rt, task, external_id if isinstance(external_id, str) else None, _errors(exc),
            payload_summary(args, kwargs), request_id=request_id,
            org=_org_or_none(rt, org_name if isinstance(org_name, str) else DEFAULT_ORG_NAME))
    return {"ok": False, "error": type(exc).__name__, "detail": str(exc)}


def refuse_message(rt: Runtime, task: str, refusal: dict[str, Any]) -> dict[str, Any]:
    """A message the worker set aside before unpacking it (``workers.requests``)."""
    errors = [[str(field), str(message)] for field, message in refusal["errors"]]
    _reject(rt, task, None, errors,
            {key: refusal[key] for key in ("argsrepr", "kwargsrepr", "bytes")},
            request_id=refusal["request_id"], org=None)
    return {"ok": False, "error": "ValidationError",
            "detail": "; ".join(f"{f}: {m}" for f, m in errors)}


def campaign_command(rt: Runtime, campaign_id: str, command: str, args: dict[str, Any],
                     *, command_id: str | None = None,
                     org: str = DEFAULT_ORG_NAME) -> dict[str, Any]:
    owner = _org_or_none(rt, org)
    try:
        if owner is None:
            raise ValidationError([("org", f"no organisation named {org!r}")])
        if command == "add_contacts":
            return _add_contacts(rt, owner, campaign_id, args.get("contacts"),
                                 command_id=command_id)
        if command == "remove_contacts":
            removed = commands.remove_campaign_contacts(
                rt, owner, campaign_id, args.get("contact_ids"), source=EventSource.API,
                command_id=command_id)
            return {"ok": True, "campaign_id": campaign_id, "removed": removed}
        campaign = commands.run_command(rt, owner, campaign_id, command, args,
                                        source=EventSource.API, command_id=command_id)
    except commands.AlreadyApplied as exc:
        # A redelivery, not bad input: nothing to record, nothing applied.
        log.warning("dialer.campaign_command %s (%s of campaign %s): %s", command_id, command,
                    campaign_id, exc)
        return {"ok": False, "error": "AlreadyApplied", "detail": str(exc),
                "campaign_id": campaign_id}
    except DialerError as exc:
        _reject(rt, "dialer.campaign_command", None, _errors(exc),
                {"campaign_id": campaign_id, "command": command, "args": summarize(args)},
                request_id=command_id, org=owner)
        return {"ok": False, "error": type(exc).__name__, "detail": str(exc)}
    return {"ok": True, "campaign_id": campaign_id,
            "status": campaign.status if campaign else None}


def _add_contacts(rt: Runtime, org: OrgRef, campaign_id: str, contacts: Any, *,
                  command_id: str | None) -> dict[str, Any]:
    """Contacts added through the campaign; its bad rows are recorded as a rejected
    request (listed by ``dialer requests``), the good ones kept."""
    audience = commands.add_campaign_contacts(rt, org, campaign_id, contacts,
                                              source=EventSource.API, command_id=command_id)
    if audience.rejected:
        with rt.transaction() as session:
            _record_rejected_contacts(rt, session, org, None, campaign_id, audience,
                                      request_id=command_id, task="dialer.campaign_command")
    return {"ok": True, "campaign_id": campaign_id, "added": audience.count,
            "rejected": len(audience.rejected)}


def enqueue_campaign(rt: Runtime, spec: Any, *, contacts: list[dict[str, Any]] | None,
                     start: bool, request_id: str | None = None,
                     org: str = DEFAULT_ORG_NAME) -> dict[str, Any]:
    """Create (and start) a campaign once per ``spec.external_id``, else per ``request_id``."""
    now = rt.clock.now()
    external_id = spec.get("external_id") if isinstance(spec, dict) else None
    owner = _org_or_none(rt, org)
    if owner is None:
        _reject(rt, "dialer.enqueue_campaign", external_id,
                [["org", f"no organisation named {org!r}"]],
                {"spec": summarize(spec), "contacts": len(contacts or []), "start": start},
                request_id=request_id, org=None)
        return {"ok": False, "error": "ValidationError",
                "detail": f"org: no organisation named {org!r}"}
    existing = _existing(rt, owner, external_id, request_id)
    if existing is not None:
        return {"ok": True, "campaign_id": existing, "created": False}
    audience = None
    try:
        with rt.transaction() as session:
            body = dict(spec) if isinstance(spec, dict) else spec
            if contacts is not None and isinstance(body, dict):
                audience = _inline_audience(rt, session, owner, body, contacts, now)
                body["audience_id"] = audience.id
            campaign = create_campaign(session, body, org_id=owner.id, now=now,
                                       source=EventSource.API)
            campaign.request_id = request_id
            if start:
                session.flush()
                commands.start(session, campaign.id, now=now, source=EventSource.API)
            campaign_id = campaign.id
            if audience is not None and audience.rejected:
                # The campaign goes ahead with the valid contacts; the others
                # are reported where a person lists rejected requests.
                _record_rejected_contacts(rt, session, owner, external_id, campaign_id,
                                          audience, request_id=request_id)
    except IntegrityError:
        # A concurrent delivery with the same external_id or task id won the unique key.
        existing = _existing(rt, owner, external_id, request_id)
        if existing is None:
            raise
        return {"ok": True, "campaign_id": existing, "created": False}
    except (ValidationError, NotFound, InvalidTransition) as exc:
        # InvalidTransition: start=True for a spec without agent_id (nothing created).
        _reject(rt, "dialer.enqueue_campaign", external_id, _errors(exc),
                {"spec": summarize(spec), "contacts": len(contacts or []),
                 "start": start}, request_id=request_id, org=owner)
        return {"ok": False, "error": type(exc).__name__, "detail": str(exc)}
    result: dict[str, Any] = {"ok": True, "campaign_id": campaign_id, "created": True}
    if audience is not None:
        result |= {"contacts_accepted": audience.count, "contacts_rejected": len(audience.rejected)}
        if audience.rejected:
            log.warning("dialer.enqueue_campaign: campaign %s created without %d invalid "
                        "inline contact(s)", campaign_id, len(audience.rejected))
    return result


# Enough rows to fix a feed; the count says how many more there were.
REJECTED_CONTACTS_LISTED = 100


def _inline_audience(rt: Runtime, session: Session, org: OrgRef, body: dict[str, Any],
                     contacts: list[dict[str, Any]], now: datetime) -> AudienceView:
    audience = create_audience(
        session, org_id=org.id, name=str(body.get("name") or "inline")[:200], contacts=contacts,
        now=now, default_region=rt.settings.default_region)
    if audience.count == 0 and audience.rejected:
        # Not a campaign anyone asked for: reject the whole request.
        raise ValidationError([("contacts", f"none of the {len(audience.rejected)} contacts "
                                            f"is valid; first: {audience.rejected[0].error}")])
    return audience


def _record_rejected_contacts(rt: Runtime, session: Session, org: OrgRef,
                              external_id: str | None, campaign_id: str,
                              audience: AudienceView, *, request_id: str | None,
                              task: str = "dialer.enqueue_campaign") -> None:
    rejected = audience.rejected
    errors = [[f"contacts[{r.index}]", r.error] for r in rejected[:REJECTED_CONTACTS_LISTED]]
    if len(rejected) > REJECTED_CONTACTS_LISTED:
        errors.append(["contacts", f"{len(rejected) - REJECTED_CONTACTS_LISTED} more rejected"])
    requests.add_rejected(
        session, org_id=org.id, at=rt.clock.now(), task=task, external_id=external_id,
        errors=errors, payload={"campaign_id": campaign_id, "contacts_accepted": audience.count,
                                "contacts_rejected": len(rejected)}, request_id=request_id)


def _existing(rt: Runtime, org: OrgRef, external_id: Any, request_id: str | None) -> str | None:
    # external_id, when given, is the sender's own key; otherwise the task id,
    # which a redelivery of the same message carries again.
    if not external_id and not request_id:
        return None
    with rt.unit_of_work() as session:
        return campaigns.id_for_key(session, org_id=org.id, external_id=external_id,
                                    request_id=request_id)


def _org_or_none(rt: Runtime, name: str) -> OrgRef | None:
    with rt.unit_of_work() as session:
        return org_named(rt, session, name)


def _errors(exc: Exception) -> list[list[str]]:
    if isinstance(exc, ValidationError):
        return [[field, message] for field, message in exc.errors]
    if isinstance(exc, InvalidTransition) and exc.field != "status":
        return [[exc.field, str(exc)]]  # a start without agent_id names it
    return [["request", str(exc)]]


def _reject(rt: Runtime, task: str, external_id: str | None, errors: list[list[str]],
            payload: dict[str, Any], *, request_id: str | None = None,
            org: OrgRef | None) -> None:
    """Recorded under ``org``; None for a request whose organisation is unknown (those
    are listed to ``default``, the deployment's own organisation)."""
    log.warning("rejected %s %s: %s", task, request_id or "", "; ".join(
        f"{f}: {m}" for f, m in errors))
    if external_id is not None and len(external_id) > 200:
        external_id = None  # the spec's own bound; the errors say so
    with rt.transaction() as session:
        # Once per task id: a redelivered bad request is not a second one.
        requests.record_rejected(session, org_id=org.id if org else None,
                                 at=rt.clock.now(), task=task, external_id=external_id,
                                 errors=errors, payload=_jsonable(payload),
                                 request_id=request_id)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
