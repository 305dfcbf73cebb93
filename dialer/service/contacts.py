"""Caller IDs, audiences, contact imports and the do-not-call list."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.phones import normalize_e164
from dialer.views import (
    AudienceView,
    ImportReport,
    PhoneNumberView,
    RejectedContact,
    RejectedRow,
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
    timezone = raw.get("timezone") or None
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown IANA timezone {timezone!r}") from None
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValueError("attributes: must be an object")
    secondary = raw.get("secondary_phones") or []
    if not isinstance(secondary, list):
        raise ValueError("secondary_phones: must be a list")
    try:
        secondary_e164 = [normalize_e164(p, default_region=default_region) for p in secondary]
    except ValueError as exc:
        raise ValueError(f"secondary_phones: {exc}") from None
    return {"phone": phone, "name": name, "timezone": timezone, "attributes": attributes,
            "secondary_phones": secondary_e164}


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


def import_contacts(
    session: Session, *, audience_id: str, csv_path: str | Path, default_region: str | None,
    on_progress: Any = None,
) -> ImportReport:
    """Stream a CSV into an audience with COPY; bad and duplicate rows are reported.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    Memory does not grow with the file: rows are validated one at a time and
    streamed to a staging table; duplicates are found in SQL. Only the
    rejected rows are kept, to be reported.
    """
    if session.get(Audience, audience_id) is None:
        raise NotFound(f"audience {audience_id} not found")
    path = Path(csv_path)
    if not path.is_file():
        raise ValidationError([("csv_path", f"no such file: {csv_path}")])
    rejected: list[RejectedRow] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if "phone" not in header:
            raise ValidationError([("phone", "the CSV header has no 'phone' column")])
        staged = _stage_rows(session, reader, header, rejected, default_region, on_progress)
    duplicates = _merge_staged(session, audience_id)
    rejected.extend(RejectedRow(row=row_number, error="duplicate phone in this audience")
                    for row_number in duplicates)
    rejected.sort(key=lambda r: r.row)
    return ImportReport(imported=staged - len(duplicates), rejected=rejected)


def _stage_rows(
    session: Session, reader: Iterator[list[str]], header: list[str],
    rejected: list[RejectedRow], default_region: str | None, on_progress: Any,
) -> int:
    """COPY valid rows into a temp table; return how many.

    The same checks as ``parse_contact``, specialised to what a CSV cell can
    hold (always a string), because this loop runs once per row of files
    with millions of them.
    """
    session.execute(_sql("""
        CREATE TEMP TABLE contact_import (
            row_number integer, phone varchar(20), name varchar(200), timezone varchar(64),
            attributes jsonb) ON COMMIT DROP"""))
    width = len(header)
    # A name used twice means its last column, as a dict of the row would have it.
    last = {key: i for i, key in enumerate(header) if key}
    phone_at, name_at, zone_at = last["phone"], last.get("name"), last.get("timezone")
    # Every other named column becomes an attribute; unnamed columns are dropped.
    extra = [(i, key) for key, i in last.items() if key not in ("phone", "name", "timezone")]
    dumps = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
    staged = 0
    raw_connection = session.connection().connection.driver_connection
    with raw_connection.cursor() as cursor, cursor.copy(
        "COPY contact_import (row_number, phone, name, timezone, attributes) FROM STDIN"
    ) as copy:
        for offset, row in enumerate(reader):
            row_number = offset + 2
            if on_progress is not None and offset % 5000 == 0:
                on_progress(offset)
            if len(row) > width:
                rejected.append(RejectedRow(row=row_number, error="more cells than columns"))
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            phone = row[phone_at].strip()
            if not phone:
                rejected.append(RejectedRow(row=row_number, error="phone: required"))
                continue
            try:
                phone = normalize_e164(phone, default_region=default_region)
            except ValueError as exc:
                rejected.append(RejectedRow(row=row_number, error=f"phone: {exc}"))
                continue
            timezone = row[zone_at].strip() or None if zone_at is not None else None
            if timezone is not None and not _known_zone(timezone):
                rejected.append(RejectedRow(
                    row=row_number, error=f"timezone: unknown IANA timezone {timezone!r}"))
                continue
            name = row[name_at].strip() or None if name_at is not None else None
            attributes = {key: value for i, key in extra if (value := row[i].strip())}
            copy.write_row((row_number, phone, name, timezone, dumps(attributes)))
            staged += 1
    return staged


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _merge_staged(session: Session, audience_id: str) -> list[int]:
    """Insert staged rows in file order, first occurrence of a phone wins; return the
    row numbers that were not inserted (already in the audience, or repeated)."""
    duplicates: list[int] = []
    if session.scalar(select(Contact.id).where(Contact.audience_id == audience_id).limit(1)):
        # Already in the audience: the phone's first row in the file is refused too.
        duplicates += session.scalars(_sql("""
            SELECT DISTINCT ON (s.phone) s.row_number FROM contact_import s
            JOIN contacts c ON c.audience_id = :audience_id AND c.phone = s.phone
            ORDER BY s.phone, s.row_number
        """), {"audience_id": audience_id})
    # Repeated within the file: every occurrence after the first (a hash aggregate, no sort
    # of the whole file).
    duplicates += session.scalars(_sql("""
        WITH repeated AS (
            SELECT phone, min(row_number) AS first_row FROM contact_import
            GROUP BY phone HAVING count(*) > 1)
        SELECT s.row_number FROM contact_import s JOIN repeated r USING (phone)
        WHERE s.row_number > r.first_row
    """))
    # In file order, so that ON CONFLICT keeps each phone's first row.
    session.execute(_sql("""
        INSERT INTO contacts (audience_id, phone, name, timezone, attributes, secondary_phones)
        SELECT :audience_id, phone, name, timezone, attributes, '[]'::jsonb
        FROM contact_import ORDER BY row_number
        ON CONFLICT ON CONSTRAINT uq_contacts_audience_phone DO NOTHING
    """), {"audience_id": audience_id})
    return duplicates


def add_dnc(session: Session, numbers: Any, *, now: datetime,
            default_region: str | None) -> int:
    e164 = _normalize_list(numbers, default_region)
    if not e164:
        return 0
    result = session.execute(
        pg_insert(DncEntry).values([{"phone": p, "added_at": now} for p in e164])
        .on_conflict_do_nothing().returning(DncEntry.phone)
    )
    return len(result.all())


def remove_dnc(session: Session, numbers: Any, *, default_region: str | None) -> int:
    e164 = _normalize_list(numbers, default_region)
    if not e164:
        return 0
    result = session.execute(delete(DncEntry).where(DncEntry.phone.in_(e164)))
    return result.rowcount or 0


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


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sql(text: str):  # small alias so the SQL above reads as SQL
    from sqlalchemy import text as sa_text

    return sa_text(text)
