"""Remote control through Celery (CONTRACT §8): never raise into a retry loop.

Bad requests are logged with their field errors and kept in
``rejected_requests`` so that a person can list them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dialer.errors import DialerError, NotFound, ValidationError
from dialer.service import campaigns as c
from dialer.service import contacts as contact_service
from dialer.service.commands import run_command
from dialer.service.runtime import Runtime
from dialer.views import AudienceView
from models.db import transaction
from models.tables import Campaign, RejectedRequest

log = logging.getLogger(__name__)


def campaign_command(rt: Runtime, campaign_id: str, command: str,
                     args: dict[str, Any]) -> dict[str, Any]:
    try:
        campaign = run_command(rt, campaign_id, command, args, source="api")
    except DialerError as exc:
        _reject(rt, "dialer.campaign_command", None, _errors(exc),
                {"campaign_id": campaign_id, "command": command, "args": args})
        return {"ok": False, "error": type(exc).__name__, "detail": str(exc)}
    return {"ok": True, "campaign_id": campaign_id,
            "status": campaign.status if campaign else None}


def enqueue_campaign(rt: Runtime, spec: Any, *, contacts: list[dict[str, Any]] | None,
                     start: bool) -> dict[str, Any]:
    now = rt.clock.now()
    external_id = spec.get("external_id") if isinstance(spec, dict) else None
    if external_id:
        existing = _by_external_id(rt, external_id)
        if existing is not None:
            return {"ok": True, "campaign_id": existing, "created": False}
    audience = None
    try:
        with transaction(rt.sessions) as session:
            body = dict(spec) if isinstance(spec, dict) else spec
            if contacts is not None and isinstance(body, dict):
                audience = _inline_audience(rt, session, body, contacts, now)
                body["audience_id"] = audience.id
            campaign = c.create_campaign(session, body, now=now, source="api")
            if start:
                session.flush()
                c.start(session, campaign.id, now=now, source="api")
            campaign_id = campaign.id
            if audience is not None and audience.rejected:
                # The campaign goes ahead with the valid contacts; the others
                # are reported where a person lists rejected requests.
                session.add(_rejected_contacts_record(rt, external_id, campaign_id, audience))
    except IntegrityError:
        # A concurrent request with the same external_id won the unique key.
        existing = _by_external_id(rt, external_id) if external_id else None
        if existing is None:
            raise
        return {"ok": True, "campaign_id": existing, "created": False}
    except (ValidationError, NotFound) as exc:
        _reject(rt, "dialer.enqueue_campaign", external_id, _errors(exc),
                {"spec": spec, "contacts": len(contacts or []), "start": start})
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


def _inline_audience(rt: Runtime, session: Session, body: dict[str, Any],
                     contacts: list[dict[str, Any]], now: datetime) -> AudienceView:
    audience = contact_service.create_audience(
        session, name=str(body.get("name") or "inline")[:200], contacts=contacts,
        now=now, default_region=rt.settings.default_region)
    if audience.count == 0 and audience.rejected:
        # Not a campaign anyone asked for: reject the whole request.
        raise ValidationError([("contacts", f"none of the {len(audience.rejected)} contacts "
                                            f"is valid; first: {audience.rejected[0].error}")])
    return audience


def _rejected_contacts_record(rt: Runtime, external_id: str | None, campaign_id: str,
                              audience: AudienceView) -> RejectedRequest:
    rejected = audience.rejected
    errors = [[f"contacts[{r.index}]", r.error] for r in rejected[:REJECTED_CONTACTS_LISTED]]
    if len(rejected) > REJECTED_CONTACTS_LISTED:
        errors.append(["contacts", f"{len(rejected) - REJECTED_CONTACTS_LISTED} more rejected"])
    return RejectedRequest(
        at=rt.clock.now(), task="dialer.enqueue_campaign", external_id=external_id,
        errors=errors, payload={"campaign_id": campaign_id, "contacts_accepted": audience.count,
                                "contacts_rejected": len(rejected)})


def _by_external_id(rt: Runtime, external_id: str) -> str | None:
    with rt.sessions() as session:
        return session.scalar(select(Campaign.id).where(Campaign.external_id == external_id))


def _errors(exc: Exception) -> list[list[str]]:
    if isinstance(exc, ValidationError):
        return [[field, message] for field, message in exc.errors]
    return [["request", str(exc)]]


def _reject(rt: Runtime, task: str, external_id: str | None, errors: list[list[str]],
            payload: dict[str, Any]) -> None:
    log.warning("rejected %s: %s", task, "; ".join(f"{f}: {m}" for f, m in errors))
    with transaction(rt.sessions) as session:
        session.add(RejectedRequest(at=rt.clock.now(), task=task, external_id=external_id,
                                    errors=errors, payload=_jsonable(payload)))


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
