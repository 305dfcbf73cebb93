"""The SQL of a CSV import (service/csv_import.py): chunks COPYed into a staging
table and inserted into the audience, in file order, so the first row of a phone
wins; duplicates are found in SQL.

The chunk functions take the psycopg connection under the use case's Session:
they run on the import's loader thread, which owns that connection while the
caller's thread validates the next chunk (and never touches the Session meanwhile).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# (row number, phone, name, timezone, attributes JSON, secondary numbers JSON)
Row = tuple[int, str, str | None, str | None, str, str]

_CREATE_STAGING = """
    CREATE TEMP TABLE contact_chunk (
        row_number integer, phone varchar(20), name varchar(200), timezone varchar(64),
        attributes jsonb, secondary_phones jsonb) ON COMMIT DROP;
    CREATE TEMP TABLE contact_phones (row_number integer, phone varchar(20)) ON COMMIT DROP
"""
# CSV, written by the csv module's C writer: psycopg's per-value write_row would
# hold the GIL for most of the load and stall the validation running beside it.
# None is written unquoted and empty, which CSV COPY reads as NULL.
_COPY_CHUNK = ("COPY contact_chunk (row_number, phone, name, timezone, attributes, "
               "secondary_phones) FROM STDIN (FORMAT csv)")
# Rows whose phone the audience already had (ids up to the last one before the import),
# as a member: a removed contact is added again instead (_READD).
_HELD_BEFORE = """
    SELECT s.row_number FROM contact_chunk s
    JOIN contacts c ON c.audience_id = %(audience_id)s AND c.phone = s.phone
    WHERE c.id <= %(last_old_id)s AND c.removed_at IS NULL
"""
# A removed contact back in the audience with the data of the file's first row for it.
_READD = """
    UPDATE contacts c SET removed_at = NULL, name = s.name, timezone = s.timezone,
        attributes = s.attributes, secondary_phones = s.secondary_phones
    FROM (SELECT DISTINCT ON (phone) phone, name, timezone, attributes, secondary_phones
          FROM contact_chunk
          ORDER BY phone, row_number) s
    WHERE c.audience_id = %(audience_id)s AND c.phone = s.phone AND c.removed_at IS NOT NULL
    RETURNING c.id
"""
_INSERT_CHUNK = """
    INSERT INTO contacts (audience_id, phone, name, timezone, attributes, secondary_phones)
    SELECT %(audience_id)s, phone, name, timezone, attributes, secondary_phones
    FROM contact_chunk ORDER BY row_number
    ON CONFLICT ON CONSTRAINT uq_contacts_audience_phone DO NOTHING
"""
_KEEP_PHONES = "INSERT INTO contact_phones SELECT row_number, phone FROM contact_chunk"
_EMPTY_CHUNK = "TRUNCATE contact_chunk"
_REPEATED = """
    WITH repeated AS (
        SELECT phone, min(row_number) AS first_row FROM contact_phones
        GROUP BY phone HAVING count(*) > 1)
    SELECT s.row_number FROM contact_phones s JOIN repeated r USING (phone)
    WHERE s.row_number > r.first_row
"""


def create_staging(session: Session) -> Any:
    """Create the staging tables (dropped at commit); the psycopg connection to load on."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    driver.execute(_CREATE_STAGING)
    return driver


def load_chunk(driver: Any, chunk: list[Row], *, audience_id: str,
               last_old_id: int | None) -> tuple[list[int], list[int]]:
    """Insert one chunk into the audience; the rows whose phone it held before, and the
    ids of removed contacts the chunk added again."""
    params = {"audience_id": audience_id, "last_old_id": last_old_id}
    held_before: list[int] = []
    readded: list[int] = []
    with driver.cursor() as cursor:
        text_rows = io.StringIO()
        csv.writer(text_rows).writerows(chunk)
        with cursor.copy(_COPY_CHUNK) as copy:
            copy.write(text_rows.getvalue())
        if last_old_id is not None:
            cursor.execute(_HELD_BEFORE, params)
            held_before = [r[0] for r in cursor.fetchall()]
            cursor.execute(_READD, params)
            readded = [r[0] for r in cursor.fetchall()]
        cursor.execute(_INSERT_CHUNK, params)
        cursor.execute(_KEEP_PHONES)
        cursor.execute(_EMPTY_CHUNK)
    return held_before, readded


def repeated_rows(session: Session) -> set[int]:
    """Rows repeating the phone of an earlier row of the same import."""
    return set(session.scalars(text(_REPEATED)))
