"""Caller IDs, audiences, contact imports and the do-not-call list."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.phones import normalize_e164
from dialer.service.csv_import import CONTAINS_NUL, NAME_MAX_CHARS
from dialer.service.csv_import import import_contacts as import_contacts  # the CSV path
from dialer.spec import is_iana_zone
from dialer.store.sql import rowcount
from dialer.views import (
    AudienceView,
    PhoneNumberView,
    RejectedContact,
)
from models.tables import Audience, Contact, DncEntry, PhoneNumber

CONTACT_FIELDS = {"phone", "name", "timezone", "attributes", "secondary_phones"}


def phone_number_view(row: PhoneNumber) -> PhoneNumberView:
    return PhoneNumberView(id=row.id, number=row.number, provider=row.provider,
                           is_active=row.is_active, cps=row.cps)


def add_phone_number(
    session: Session, *, number: str, provider: str, cps: float | None, now: datetime,
    default_region: str | None,
) -> PhoneNumberView:
    errors: list[tuple[str, str]] = []
    try:
        e164 = normalize_e164(number, default_region=default_region)
    except ValueError as exc:
        errors.append(("number", str(exc)))
    if not isinstance(provider, str) or not provider.strip():
        errors.append(("provider", "must be a non-empty string"))
    if cps is not None and (not isinstance(cps, int | float) or cps <= 0):
        errors.append(("cps", "must be a positive number"))
    if errors:
        raise ValidationError(errors)
    if session.scalar(select(PhoneNumber).where(PhoneNumber.number == e164)) is not None:
        raise ValidationError([("number", f"{e164} is already registered")])
    row = PhoneNumber(id=str(uuid.uuid4()), number=e164, provider=provider, cps=cps,
                      is_active=True, created_at=now)
    session.add(row)
    session.flush()
    return phone_number_view(row)


def set_phone_number_active(session: Session, number_id: str, *, active: bool) -> PhoneNumberView:
    row = session.get(PhoneNumber, str(number_id)) if is_uuid(number_id) else None
    if row is None:
        raise NotFound(f"phone number {number_id} not found")
    row.is_active = bool(active)
    return phone_number_view(row)



def list_phone_numbers(session: Session) -> list[PhoneNumberView]:
    rows = session.scalars(select(PhoneNumber).order_by(PhoneNumber.created_at, PhoneNumber.id))
    return [phone_number_view(r) for r in rows]


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


def create_audience(
    session: Session, *, name: str, contacts: Iterable[Any], now: datetime,
    default_region: str | None,
) -> AudienceView:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError([("name", "must be a non-empty string")])
    if len(name) > 200:
        raise ValidationError([("name", "at most 200 characters")])
    if contacts is None:
        contacts = []
    if isinstance(contacts, str | bytes | dict) or not isinstance(contacts, Iterable):
        raise ValidationError([("contacts", "must be a list of contact objects")])
    audience = Audience(id=str(uuid.uuid4()), name=name, created_at=now)
    session.add(audience)
    session.flush()
    good: list[dict[str, Any]] = []
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
                                            error="duplicate phone in this audience"))
            continue
        seen.add(contact["phone"])
        good.append({"audience_id": audience.id, **contact})
    for chunk in _chunks(good, 5000):
        session.execute(pg_insert(Contact), chunk)
    return AudienceView(id=audience.id, name=name, count=len(good), rejected=rejected)


def add_dnc(session: Session, numbers: Any, *, now: datetime,
            default_region: str | None) -> int:
    e164 = _normalize_list(numbers, default_region)
    added = 0
    # One statement carries at most 65,535 bind parameters (two per row here):
    # a list of any size goes in chunks, all in the caller's one transaction.
    for chunk in _chunks(e164, _DNC_CHUNK):
        result = session.execute(
            pg_insert(DncEntry).values([{"phone": p, "added_at": now} for p in chunk])
            .on_conflict_do_nothing().returning(DncEntry.phone)
        )
        added += len(result.all())
    return added


def remove_dnc(session: Session, numbers: Any, *, default_region: str | None) -> int:
    e164 = _normalize_list(numbers, default_region)
    removed = 0
    for chunk in _chunks(e164, _DNC_CHUNK):
        removed += rowcount(session.execute(delete(DncEntry).where(DncEntry.phone.in_(chunk))))
    return removed


def list_dnc(session: Session) -> list[str]:
    return list(session.scalars(select(DncEntry.phone).order_by(DncEntry.phone)))


def _normalize_list(numbers: Any, default_region: str | None) -> list[str]:
    if isinstance(numbers, str):
        numbers = [numbers]
    if not isinstance(numbers, Iterable):
        raise ValidationError([("numbers", "must be a list of phone numbers")])
    out: list[str] = []
    errors: list[tuple[str, str]] = []
    for index, raw in enumerate(numbers):
        try:
            out.append(normalize_e164(raw, default_region=default_region))
        except ValueError as exc:
            errors.append((f"numbers[{index}]", str(exc)))
    if errors:
        raise ValidationError(errors)
    return sorted(set(out))


T = TypeVar("T")

# Numbers per DNC statement: far below the 65,535 bind parameters of one statement.
_DNC_CHUNK = 10_000


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sql(text: str):  # small alias so the SQL above reads as SQL
    from sqlalchemy import text as sa_text

    return sa_text(text)


# -- names people type instead of ids (``dialer campaign create --audience/--caller-id``)


def resolve_audience(session: Session, ref: str) -> str:
    """The id of the audience ``ref`` names: its id, or else its exact name when exactly
    one audience has it. ValueError says why not (unknown, or which ids share the name)."""
    ref = str(ref).strip()
    if is_uuid(ref) and session.get(Audience, ref) is not None:
        return ref
    ids = list(session.scalars(select(Audience.id).where(Audience.name == ref)
                               .order_by(Audience.created_at, Audience.id)))
    if not ids:
        raise ValueError(f"no audience named or numbered {ref!r} (dialer audience list)")
    if len(ids) > 1:
        raise ValueError(f"{len(ids)} audiences are named {ref!r}: give one of their ids "
                         f"({', '.join(ids)})")
    return ids[0]


def resolve_phone_number(session: Session, ref: str, *, default_region: str | None) -> str:
    """The id of the registered caller ID ``ref`` names: its id, or its number in any
    format (read as E.164, like ``dialer phone add``). ValueError says why not."""
    ref = str(ref).strip()
    if is_uuid(ref):
        if session.get(PhoneNumber, ref) is None:
            raise ValueError(f"no phone number {ref}")
        return ref
    e164 = normalize_e164(ref, default_region=default_region)  # ValueError: INVALID_PHONE
    found = session.scalar(select(PhoneNumber.id).where(PhoneNumber.number == e164))
    if found is None:
        raise ValueError(f"{e164} is not a registered caller ID (dialer phone add {e164})")
    return found
