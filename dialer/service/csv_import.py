"""CSV contact import: validated in Python, loaded with COPY, in constant memory.

Python validates a chunk of rows while PostgreSQL loads the previous one:
a thread of this module owns the connection during the import and, per
chunk, COPYs it into a small staging table and inserts it into the audience
(``ON CONFLICT DO NOTHING``, in file order, so the first row of a phone
wins). Parsing holds the GIL; the thread mostly waits on the server, so the
two overlap on two cores. Everything runs in the caller's transaction:
an error anywhere leaves nothing behind.

Memory is bounded by the chunk size, not the file: only rejected rows are
kept, to be reported. Duplicates are found in SQL: rows repeating an earlier
row's phone (a hash aggregate over a narrow table of row numbers and
phones), and rows whose phone the audience held before the import.
"""

from __future__ import annotations

import csv
import json
import queue
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dialer.errors import NotFound, ValidationError
from dialer.ids import is_uuid
from dialer.phones import normalize_e164
from dialer.service.runtime import Runtime
from dialer.service.steps import campaign_commands, leads
from dialer.spec import is_iana_zone
from dialer.store import audiences, contact_import
from dialer.store import leads as lead_store
from dialer.store.audiences import NAME_MAX_CHARS
from dialer.store.contact_import import Row
from dialer.text import CONTAINS_NUL
from dialer.views import ImportReport, OrgRef, RejectedRow

CHUNK_ROWS = 20_000
GIL_SWITCH_S = 0.0005
DUPLICATE = "duplicate phone in this audience"
# A contact's other numbers, dialed in order after the primary (docs/spec.md): one cell,
# the numbers separated by ';' or '|' (a comma would need quoting in a CSV cell).
SECONDARY_COLUMN = "secondary_phones"
SECONDARY_SEPARATORS = re.compile(r"\s*[;|]\s*")
OWN_COLUMNS = frozenset({"phone", "name", "timezone", SECONDARY_COLUMN})


def import_contacts(
    session: Session, *, org_id: str, audience_id: str, csv_path: str | Path,
    default_region: str | None, now: datetime, source: str, on_progress: Any = None,
) -> ImportReport:
    """Stream a CSV into an audience; bad and duplicate rows are reported. A removed
    contact comes back; new and returning contacts join the audience's campaigns that have
    not finished (steps/leads.py), as ``add_contacts``'s do.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """
    if not is_uuid(audience_id) or not audiences.exists(session, audience_id, org_id=org_id):
        raise NotFound(f"audience {audience_id} not found")
    path = Path(csv_path)
    if not path.is_file():
        raise ValidationError([("csv_path", f"no such file: {csv_path}")])
    rejected: list[RejectedRow] = []
    last_old_id = audiences.last_contact_id(session, audience_id)
    try:
        # utf-8-sig: spreadsheet programs start "CSV UTF-8" with a BOM, which would
        # otherwise stick to the first column's name and hide the phone column.
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ValidationError([("csv_path", f"cannot open {csv_path}: {reason}")]) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader, [])]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _unreadable(path, reader.line_num, exc) from None
        if any("\x00" in key for key in header):  # attribute keys: jsonb refuses them
            raise ValidationError([("csv_path", f"line 1: a column name {CONTAINS_NUL}")])
        if "phone" not in header:
            raise ValidationError([("phone", "the CSV header has no 'phone' column")])
        driver = contact_import.create_staging(session)
        staged = 0
        with _switch_interval.lowered():
            loader = _ChunkLoader(driver, audience_id=audience_id, last_old_id=last_old_id)
            try:
                for chunk in _valid_chunks(reader, header, rejected, default_region, on_progress):
                    loader.put(chunk)
                    staged += len(chunk)
            except (UnicodeDecodeError, csv.Error) as exc:
                # Raised by the reader, not by a row: the caller's transaction is rolled
                # back, chunks already loaded with it.
                raise _unreadable(path, reader.line_num, exc) from None
            finally:
                held_before = loader.finish()
    # Locked only now, for the enrolment: a long import does not hold up their ticks, nor
    # campaigns being created on the audience. A campaign created meanwhile did not see
    # these contacts; once it has committed, the audience's row is ours and it is found.
    audiences.lock_for_change(session, audience_id)
    campaign_ids = lead_store.lock_enrolling_campaigns(session, audience_id)
    leads.enrol(session, campaign_ids, sorted(loader.readded), now=now, source=source,
                audience_id=audience_id, after_id=last_old_id or 0)
    duplicates = held_before | contact_import.repeated_rows(session)
    rejected.extend(RejectedRow(row=row_number, error=DUPLICATE) for row_number in duplicates)
    rejected.sort(key=lambda r: r.row)
    return ImportReport(imported=staged - len(duplicates), rejected=rejected)


def import_campaign_contacts(
    rt: Runtime, org: OrgRef, campaign_id: str, csv_path: str | Path, *, source: str,
    on_progress: Any = None,
) -> ImportReport:
    """A CSV imported into a campaign's audience (``import_contacts``: the contacts join
    every campaign of the audience that has not finished) in one transaction that ends
    with the campaign checked under its lock: InvalidTransition, nothing imported, once it
    has finished (a stop committed during the import included)."""
    now = rt.clock.now()

    def handler(session: Session) -> ImportReport:
        # Asked first without a lock, so that a finished campaign is refused at once.
        campaign, _ = campaign_commands.locked_for_contacts(session, campaign_id,
                                                            org_id=org.id, lock=False)
        assert campaign.audience_id is not None  # checked just above
        report = import_contacts(session, org_id=org.id, audience_id=campaign.audience_id,
                                 csv_path=csv_path, default_region=rt.settings.default_region,
                                 now=now, source=source, on_progress=on_progress)
        # Locked only now (audience, then campaign, as the import's enrolment did): a long
        # import does not hold up the campaign's ticks.
        campaign_commands.locked_for_contacts(session, campaign_id, org_id=org.id)
        return report

    return campaign_commands.in_transaction(rt, org, campaign_id, "add_contacts", handler)


def _valid_chunks(
    reader: Iterator[list[str]], header: list[str], rejected: list[RejectedRow],
    default_region: str | None, on_progress: Any,
) -> Iterator[list[Row]]:
    """Validated rows, CHUNK_ROWS at a time; the others go to ``rejected``.

    The same checks as ``steps.audience_intake.parse_contact``, specialised to what a CSV
    cell can hold (always a string), because this loop runs once per row of
    files with millions of them.
    """
    width = len(header)
    # A name used twice means its last column, as a dict of the row would have it.
    last = {key: i for i, key in enumerate(header) if key}
    phone_at, name_at, zone_at = last["phone"], last.get("name"), last.get("timezone")
    secondary_at = last.get(SECONDARY_COLUMN)
    # Every other named column becomes an attribute; unnamed columns are dropped.
    extra = [(i, key) for key, i in last.items() if key not in OWN_COLUMNS]
    dumps = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
    chunk: list[Row] = []
    # The columns a row is stored from, for a NUL that PostgreSQL would refuse.
    kept = sorted((i, key) for key, i in last.items())
    for offset, row in enumerate(reader):
        row_number = offset + 2
        if on_progress is not None and offset % 5000 == 0:
            on_progress(offset)
        if len(row) > width:
            if _blank(row):
                continue
            rejected.append(RejectedRow(row=row_number, error="more cells than columns"))
            continue
        if len(row) < width:
            row = row + [""] * (width - len(row))
        # One C-level scan of the row; the columns are looked at only on a hit.
        if "\x00" in "".join(row):
            column = next((key for i, key in kept if "\x00" in row[i]), None)
            if column is not None:
                rejected.append(RejectedRow(row=row_number, error=f"{column}: {CONTAINS_NUL}"))
                continue
        phone = row[phone_at].strip()
        if not phone:
            if _blank(row):
                continue
            rejected.append(RejectedRow(row=row_number, error="phone: required"))
            continue
        try:
            phone = normalize_e164(phone, default_region=default_region)
        except ValueError as exc:
            rejected.append(RejectedRow(row=row_number, error=f"phone: {exc}"))
            continue
        timezone = (row[zone_at].strip() or None) if zone_at is not None else None
        if timezone is not None and not is_iana_zone(timezone):
            rejected.append(RejectedRow(
                row=row_number, error=f"timezone: unknown IANA timezone {timezone!r}"))
            continue
        name = (row[name_at].strip() or None) if name_at is not None else None
        if name is not None and len(name) > NAME_MAX_CHARS:
            rejected.append(RejectedRow(
                row=row_number, error=f"name: at most {NAME_MAX_CHARS} characters"))
            continue
        secondary: list[str] = []
        if secondary_at is not None and (cell := row[secondary_at].strip()):
            try:
                secondary = [normalize_e164(number, default_region=default_region)
                             for number in SECONDARY_SEPARATORS.split(cell) if number]
            except ValueError as exc:
                rejected.append(RejectedRow(row=row_number,
                                            error=f"{SECONDARY_COLUMN}: {exc}"))
                continue
        attributes = {key: value for i, key in extra if (value := row[i].strip())}
        chunk.append((row_number, phone, name, timezone, dumps(attributes),
                      dumps(secondary) if secondary else "[]"))
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _blank(row: list[str]) -> bool:
    """A blank line (a trailing one, most often), or only separators: no contact at all."""
    return not "".join(row).strip()


def _unreadable(path: Path, line: int, exc: UnicodeDecodeError | csv.Error) -> ValidationError:
    """The file itself cannot be read as CSV: the import stops at the line it reached."""
    if isinstance(exc, UnicodeDecodeError):
        # The decoder works a block ahead of the reader, so its line is found again.
        line = _first_undecodable_line(path) or line + 1
        reason = "not UTF-8 text (save the file as CSV UTF-8)"
    else:
        reason = str(exc)
    return ValidationError([("csv_path", f"line {line}: {reason}")])


def _first_undecodable_line(path: Path) -> int | None:
    # Line by line is exact: b"\n" never occurs inside a UTF-8 multi-byte sequence.
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


class _SwitchInterval:
    """The GIL switch interval lowered while any import runs, restored by the last.

    The interval is process-wide: imports on two threads that each saved and
    restored it could leave it lowered for good (the second saves the first's
    lowered value and puts it back last).

    The loader wakes up after every round trip and needs the GIL to go on; by
    default it waits up to 5 ms for the validating thread to yield it, which
    made loading twice as slow.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0.0

    @contextmanager
    def lowered(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(GIL_SWITCH_S)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    sys.setswitchinterval(self._saved)


_switch_interval = _SwitchInterval()


class _ChunkLoader:
    """Loads chunks into the audience on a thread that owns the connection meanwhile.

    At most one chunk waits while one loads, so memory stays at two chunks.
    """

    def __init__(self, driver: Any, *, audience_id: str, last_old_id: int | None) -> None:
        self._driver = driver
        self._audience_id = audience_id
        self._last_old_id = last_old_id
        self._chunks: queue.Queue[list[Row] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self.held_before: set[int] = set()
        self.readded: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="csv-import-loader", daemon=True)
        self._thread.start()

    def put(self, chunk: list[Row]) -> None:
        if self._error is not None:
            raise self._error
        self._chunks.put(chunk)

    def finish(self) -> set[int]:
        """Wait for the last chunk; re-raise what went wrong on the thread."""
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.held_before

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._error is None:
                try:
                    self._load(chunk)
                except BaseException as exc:  # handed to the caller's thread by finish/put
                    self._error = exc
            # After an error, chunks are only drained, so that put() never blocks forever.

    def _load(self, chunk: list[Row]) -> None:
        held_before, readded = contact_import.load_chunk(
            self._driver, chunk, audience_id=self._audience_id, last_old_id=self._last_old_id)
        self.held_before.update(held_before)
        self.readded.update(readded)
