"""Caller IDs, the do-not-call list, and the names people type for audiences and
caller IDs. Creating an audience is steps/audience_intake.py (remote control uses it
too); a CSV import is service/csv_import.py."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialer.errors import InvalidTransition, NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.phones import normalize_e164
from dialer.store import audiences, dnc, numbers
from dialer.text import CONTAINS_NUL
from dialer.views import PhoneNumberView
from models.tables import PhoneNumber

# The most calls a second one caller ID may be given (as the HTTP API's schema).
MAX_CPS = 1000


def phone_number_view(row: PhoneNumber) -> PhoneNumberView:
    return PhoneNumberView(id=row.id, number=row.number, provider=row.provider,
                           is_active=row.is_active, cps=row.cps)


def add_phone_number(
    session: Session, *, org_id: str, number: str, provider: str, cps: float | None,
    now: datetime, default_region: str | None,
) -> PhoneNumberView:
    errors: list[tuple[str, str]] = []
    try:
        e164 = normalize_e164(number, default_region=default_region)
    except ValueError as exc:
        errors.append(("number", str(exc)))
    if not isinstance(provider, str) or not provider.strip():
        errors.append(("provider", "must be a non-empty string"))
    elif "\x00" in provider:  # PostgreSQL text holds no NUL
        errors.append(("provider", CONTAINS_NUL))
    # The API's bounds (schemas.PhoneNumberIn), for every surface: finite, 0 < cps <= 1000.
    if cps is not None and (isinstance(cps, bool) or not isinstance(cps, int | float)
                            or not math.isfinite(cps) or not 0 < cps <= MAX_CPS):
        errors.append(("cps", f"must be a number above 0 and at most {MAX_CPS}"))
    if errors:
        raise ValidationError(errors)
    if numbers.id_of(session, e164, org_id=org_id) is not None:
        raise ValidationError([("number", f"{e164} is already registered")])
    return phone_number_view(_insert_or_revive(session, org_id=org_id, e164=e164,
                                               provider=provider, cps=cps, now=now))


def _insert_or_revive(session: Session, *, org_id: str, e164: str, provider: str,
                      cps: float | None, now: datetime) -> PhoneNumber:
    """A new row for ``e164``, or its removed row back (one row per organisation and
    number): same id, active, with the provider and cps given now, registered now."""
    row = numbers.removed_row(session, e164, org_id=org_id)
    if row is None:
        return numbers.insert(session, number_id=str(uuid.uuid4()), org_id=org_id, e164=e164,
                              provider=provider, cps=cps, now=now)
    row.removed_at, row.is_active = None, True
    row.provider, row.cps, row.created_at = provider, cps, now
    session.flush()
    return row


def set_phone_number_active(session: Session, number_id: str, *, org_id: str,
                            active: bool) -> PhoneNumberView:
    row = numbers.get(session, str(number_id), org_id=org_id) if is_uuid(number_id) else None
    if row is None:
        raise NotFound(f"phone number {number_id} not found")
    row.is_active = bool(active)
    return phone_number_view(row)


def remove_phone_number(session: Session, number_id: str, *, org_id: str,
                        now: datetime) -> None:
    """Remove a caller ID: kept (calls name it as their from_number), but inactive, so
    nothing dials from it, and gone from every list and check (NotFound from then on).
    Refused (InvalidTransition) while a scheduled, running or paused campaign lists it;
    a draft or finished one may keep listing it (a draft is refused it at its next edit of
    phone_number_ids, and dials only from its other, active, numbers)."""
    # Locked first: a campaign being created or edited to list it holds it shared
    # (steps/campaign_creation.checked_spec), so this waits, then reads that campaign.
    row = (numbers.get(session, str(number_id), org_id=org_id, lock="update")
           if is_uuid(number_id) else None)
    if row is None:
        raise NotFound(f"phone number {number_id} not found")
    live = numbers.live_campaigns_listing(session, row.id, org_id=org_id)
    if live:
        named = ", ".join(f"{name!r} ({campaign_id}, {status})"
                          for campaign_id, name, status in live[:3])
        more = f" and {len(live) - 3} more" if len(live) > 3 else ""
        raise InvalidTransition(
            f"phone number {row.id} is used by {len(live)} live campaign(s): {named}{more}; "
            "stop them first (a scheduled one may instead be edited to list other "
            "phone_number_ids)", field="id")
    row.removed_at, row.is_active = now, False
    session.flush()


def list_phone_numbers(session: Session, *, org_id: str) -> list[PhoneNumberView]:
    return [phone_number_view(r) for r in numbers.all_numbers(session, org_id=org_id)]


def add_dnc(session: Session, phones: Any, *, org_id: str, now: datetime,
            default_region: str | None) -> int:
    return dnc.add(session, _normalize_list(phones, default_region), org_id=org_id, now=now)


def remove_dnc(session: Session, phones: Any, *, org_id: str,
               default_region: str | None) -> int:
    return dnc.remove(session, _normalize_list(phones, default_region), org_id=org_id)


def list_dnc(session: Session, *, org_id: str) -> list[str]:
    return dnc.all_phones(session, org_id=org_id)


def _normalize_list(phones: Any, default_region: str | None) -> list[str]:
    if isinstance(phones, str):
        phones = [phones]
    if not isinstance(phones, Iterable):
        raise ValidationError([("numbers", "must be a list of phone numbers")])
    out: list[str] = []
    errors: list[tuple[str, str]] = []
    for index, raw in enumerate(phones):
        try:
            out.append(normalize_e164(raw, default_region=default_region))
        except ValueError as exc:
            errors.append((f"numbers[{index}]", str(exc)))
    if errors:
        raise ValidationError(errors)
    return sorted(set(out))


# -- names people type instead of ids (``dialer campaign create --audience/--caller-id``)


def resolve_audience(session: Session, ref: str, *, org_id: str) -> str:
    """The id of the audience ``ref`` names: its id, or else its exact name when exactly
    one audience has it. ValueError says why not (unknown, or which ids share the name)."""
    ref = str(ref).strip()
    if is_uuid(ref) and audiences.exists(session, ref, org_id=org_id):
        return ref
    ids = audiences.ids_named(session, ref, org_id=org_id)
    if not ids:
        raise ValueError(f"no audience named or numbered {ref!r} (dialer audience list)")
    if len(ids) > 1:
        raise ValueError(f"{len(ids)} audiences are named {ref!r}: give one of their ids "
                         f"({', '.join(ids)})")
    return ids[0]


def resolve_phone_number(session: Session, ref: str, *, org_id: str,
                         default_region: str | None) -> str:
    """The id of the registered caller ID ``ref`` names: its id, or its number in any
    format (read as E.164, like ``dialer phone add``). ValueError says why not."""
    ref = str(ref).strip()
    if is_uuid(ref):
        if numbers.get(session, ref, org_id=org_id) is None:
            raise ValueError(f"no phone number {ref}")
        return ref
    e164 = normalize_e164(ref, default_region=default_region)  # ValueError: INVALID_PHONE
    found = numbers.id_of(session, e164, org_id=org_id)
    if found is None:
        raise ValueError(f"{e164} is not a registered caller ID (dialer phone add {e164})")
    return found
