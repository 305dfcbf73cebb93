"""Remote control through Celery (CONTRACT §8): never raise into a retry loop.

Bad requests are logged with their field errors and kept in
``rejected_requests`` so that a person can list them.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dialer.errors import DialerError, NotFound, ValidationError
from dialer.service import campaigns as c
from dialer.service import contacts as contact_service
from dialer.service.commands import run_command
from dialer.service.runtime import Runtime
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
    try:
        with transaction(rt.sessions) as session:
            body = dict(spec) if isinstance(spec, dict) else spec
            if contacts is not None and isinstance(body, dict):
                audience = contact_service.create_audience(
                    session, name=str(body.get("name") or "inline")[:200], contacts=contacts,
                    now=now, default_region=rt.settings.default_region)
                body["audience_id"] = audience.id
            campaign = c.create_campaign(session, body, now=now, source="api")
            if start:
                session.flush()
                c.start(session, campaign.id, now=now, source="api")
            campaign_id = campaign.id
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
    return {"ok": True, "campaign_id": campaign_id, "created": True}


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
