"""Contacts as people send them, checked and stored as an audience: shared by the
client, remote control (inline contacts) and the CSV import (its limits)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialer.errors import ValidationError
from dialer.phones import normalize_e164
from dialer.spec import is_iana_zone
from dialer.store import audiences
from dialer.store.audiences import NAME_MAX_CHARS
from dialer.text import CONTAINS_NUL
from dialer.views import AudienceView, RejectedContact

CONTACT_FIELDS = {"phone", "name", "timezone", "attributes", "secondary_phones"}
AUDIENCE_NAME_MAX_CHARS = 200
DUPLICATE = "duplicate phone in this audience"


def create_audience(
    session: Session, *, org_id: str, name: str, contacts: Iterable[Any], now: datetime,
    default_region: str | None,
) -> AudienceView:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError([("name", "must be a non-empty string")])
    if len(name) > AUDIENCE_NAME_MAX_CHARS:
        raise ValidationError([("name", f"at most {AUDIENCE_NAME_MAX_CHARS} characters")])
    if "\x00" in name:
        raise ValidationError([("name", CONTAINS_NUL)])
    good, rejected = parse_contacts(contacts, default_region=default_region)
    audience_id = str(uuid.uuid4())
    audiences.insert(session, audience_id=audience_id, org_id=org_id, name=name, now=now)
    audiences.insert_contacts(session, [{"audience_id": audience_id, **c} for _, c in good])
    return AudienceView(id=audience_id, name=name, count=len(good), rejected=rejected)


def parse_contacts(contacts: Any, *, default_region: str | None
                   ) -> tuple[list[tuple[int, dict[str, Any]]], list[RejectedContact]]:
    """(index, normalised contact) of the good rows, and the bad rows reported (a phone
    repeated in the list: the first row wins). ValidationError when it is no list."""
    if contacts is None:
        contacts = []
    if isinstance(contacts, str | bytes | dict) or not isinstance(contacts, Iterable):
        raise ValidationError([("contacts", "must be a list of contact objects")])
    good: list[tuple[int, dict[str, Any]]] = []
    rejected: list[RejectedContact] = []
    seen: set[str] = set()
    for index, raw in enumerate(contacts):
        try:
            contact = parse_contact(raw, default_region=default_region)
        except ValueError as exc:
            phone = raw.get("phone") if isinstance(raw, dict) else None
            rejected.append(RejectedContact(index=index, phone=phone, error=str(exc)))
            continue
        if contact["phone"] in seen:
            rejected.append(RejectedContact(index=index, phone=raw.get("phone"),
                                            error=DUPLICATE))
            continue
        seen.add(contact["phone"])
        good.append((index, contact))
    return good, rejected


def parse_contact(raw: Any, *, default_region: str | None) -> dict[str, Any]:
    """One contact dict, normalised, or ValueError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("contact must be an object")
    unknown = set(raw) - CONTACT_FIELDS
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if "phone" not in raw or raw["phone"] in (None, ""):
        raise ValueError("phone: required")
    try:
        phone = normalize_e164(raw["phone"], default_region=default_region)
    except ValueError as exc:
        raise ValueError(f"phone: {exc}") from None
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError("name: must be a string")
    # What the columns cannot hold would otherwise fail the whole insert in PostgreSQL.
    if name is not None and len(name) > NAME_MAX_CHARS:
        raise ValueError(f"name: at most {NAME_MAX_CHARS} characters")
    if name is not None and "\x00" in name:
        raise ValueError(f"name: {CONTAINS_NUL}")
    timezone = raw.get("timezone") or None
    if timezone is not None:
        if "\x00" in str(timezone):
            raise ValueError(f"timezone: {CONTAINS_NUL}")
        if not is_iana_zone(str(timezone)):
            raise ValueError(f"timezone: unknown IANA timezone {timezone!r}")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValueError("attributes: must be an object")
    if _has_nul(attributes):
        raise ValueError(f"attributes: {CONTAINS_NUL}")
    secondary = raw.get("secondary_phones") or []
    if not isinstance(secondary, list):
        raise ValueError("secondary_phones: must be a list")
    try:
        secondary_e164 = [normalize_e164(p, default_region=default_region) for p in secondary]
    except ValueError as exc:
        raise ValueError(f"secondary_phones: {exc}") from None
    return {"phone": phone, "name": name, "timezone": timezone, "attributes": attributes,
            "secondary_phones": secondary_e164}


def _has_nul(value: Any) -> bool:
    """A NUL anywhere in a JSON value's strings or keys: jsonb refuses ``\\u0000``."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False
