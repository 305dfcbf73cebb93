"""CSV import in chunks: file order decides which row of a phone wins, across chunks and
against contacts the audience held before; nothing of a failed import is left behind."""

from __future__ import annotations

import csv
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from dialer.client import DialerClient
from dialer.errors import ValidationError
from dialer.service import csv_import
from tests.support.scenario import MONDAY_9AM_NY

pytestmark = pytest.mark.integration


@pytest.fixture
def client(clean_state, database_url, redis_url, monkeypatch):
    # Chunks of three rows: every duplicate below sits in another chunk than its first row.
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", 3)
    with DialerClient(database_url=database_url, redis_url=redis_url,
                      time_origin=f"{MONDAY_9AM_NY.isoformat()}@{time.time()}") as c:
        yield c


def contacts_of(database_url: str, audience_id: str) -> list[tuple[str, str | None]]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT phone, name FROM contacts WHERE audience_id = :a ORDER BY id"),
            {"a": audience_id}).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_chunks_keep_the_first_row_of_each_phone_and_report_the_others(
        client, tmp_path, database_url):
    switch_interval_s = sys.getswitchinterval()
    audience = client.create_audience("chunks")
    first = tmp_path / "first.csv"
    first.write_text("phone,name\n"
                     "+12125550101,a\n+12125550102,b\nnot a phone,x\n"
                     "+12125550103,c\n+12125550101,a again\n+12125550104,d\n"
                     "(212) 555-0102,b again\n+12125550105,e\n")
    report = client.import_contacts(audience.id, first)
    assert report.imported == 5
    assert [(r.row, r.error.split(":")[0]) for r in report.rejected] == [
        (4, "phone"), (6, "duplicate phone in this audience"),
        (8, "duplicate phone in this audience")]
    assert contacts_of(database_url, audience.id) == [
        ("+12125550101", "a"), ("+12125550102", "b"), ("+12125550103", "c"),
        ("+12125550104", "d"), ("+12125550105", "e")]

    # Into the same audience: phones it already holds are refused at every row.
    second = tmp_path / "second.csv"
    second.write_text("phone,name\n+12125550106,f\n+12125550101,a third\n+12125550106,f again\n"
                      "+12125550107,g\n+12125550101,a fourth\n")
    report = client.import_contacts(audience.id, second)
    assert report.imported == 2
    assert [r.row for r in report.rejected] == [3, 4, 6]
    assert [p for p, _ in contacts_of(database_url, audience.id)][-2:] == [
        "+12125550106", "+12125550107"]
    assert sys.getswitchinterval() == switch_interval_s


def test_a_file_that_breaks_midway_leaves_no_contact_behind(
        client, tmp_path, database_url, monkeypatch):
    audience = client.create_audience("breaks")
    path = tmp_path / "contacts.csv"
    path.write_text("phone,name\n" + "".join(f"+1212555{i:04d},n\n" for i in range(7))
                    + "+12125550999,z\n")
    # Two chunks are in the audience when PostgreSQL refuses the third (a name too long
    # for its column, slipped past validation): the error comes back from the loading
    # thread, and all rolls back.
    valid_chunks = csv_import._valid_chunks

    def one_name_too_long(*args, **kwargs):
        for chunk in valid_chunks(*args, **kwargs):
            yield [(n, phone, "x" * 300 if name == "z" else name, *rest)
                   for n, phone, name, *rest in chunk]

    monkeypatch.setattr(csv_import, "_valid_chunks", one_name_too_long)
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        client.import_contacts(audience.id, path)
    assert contacts_of(database_url, audience.id) == []
    assert client.create_audience("after", []).count == 0  # the connection is fine again


def rejected_of(report) -> list[tuple[int, str]]:
    return [(r.row, r.error) for r in report.rejected]


def test_a_zone_name_that_is_a_folder_or_too_long_rejects_its_row_only(
        client, tmp_path, database_url):
    audience = client.create_audience("zones")
    path = tmp_path / "zones.csv"
    # "US" and "Etc" are folders of the zone database, not zones: opening them as a zone
    # file raised IsADirectoryError, and a name over 255 characters OSError.
    path.write_text("phone,timezone\n+14155550124,US\n+14155550125,Etc\n"
                    f"+14155550126,{'x' * 300}\n+14155550127,US/Pacific\n")
    report = client.import_contacts(audience.id, path)
    assert report.imported == 1
    assert [(row, error.split(" '")[0]) for row, error in rejected_of(report)] == [
        (2, "timezone: unknown IANA timezone"), (3, "timezone: unknown IANA timezone"),
        (4, "timezone: unknown IANA timezone")]
    assert contacts_of(database_url, audience.id) == [("+14155550127", None)]


def test_cells_postgresql_cannot_store_reject_their_row_only(client, tmp_path, database_url):
    audience = client.create_audience("cells")
    path = tmp_path / "cells.csv"
    path.write_text("phone,name,timezone,plan\n"
                    f"+14155550124,{'n' * 201}\n"
                    f"+14155550125,{'n' * 200}\n"
                    "+14155550126,a\x00b\n"
                    "+14155550127,,,gold\x00\n"
                    "+14155550128,,America/New_York\x00\n"
                    "+14155550129,ok,,silver\n", encoding="utf-8")
    report = client.import_contacts(audience.id, path)
    assert rejected_of(report) == [
        (2, "name: at most 200 characters"), (4, "name: contains a NUL character"),
        (5, "plan: contains a NUL character"), (6, "timezone: contains a NUL character")]
    assert report.imported == 2
    assert contacts_of(database_url, audience.id) == [
        ("+14155550125", "n" * 200), ("+14155550129", "ok")]


def test_a_nul_in_a_column_that_is_not_kept_does_not_reject_the_row(client, tmp_path):
    audience = client.create_audience("unnamed")
    path = tmp_path / "unnamed.csv"
    path.write_text("phone,\n+14155550124,a\x00b\n")
    assert client.import_contacts(audience.id, path).imported == 1


def test_a_nul_in_a_column_name_refuses_the_file(client, tmp_path, database_url):
    audience = client.create_audience("header")
    path = tmp_path / "header.csv"
    path.write_text("phone,pl\x00an\n+14155550124,gold\n")
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, path)
    assert info.value.errors == [("csv_path", "line 1: a column name contains a NUL character")]
    assert contacts_of(database_url, audience.id) == []


def assert_unreadable(info, line: int) -> None:
    assert info.value.fields == ["csv_path"]
    assert info.value.errors[0][1].startswith(f"line {line}: ")


def test_a_file_that_is_not_utf8_is_refused_at_its_line_and_leaves_nothing(
        client, tmp_path, database_url):
    audience = client.create_audience("latin1")
    path = tmp_path / "latin1.csv"
    # Far enough in that several chunks are loaded before the decoder reaches it.
    good = "".join(f"+1212555{i:04d},n\n" for i in range(600))
    path.write_bytes(("phone,name\n" + good).encode() + "+12125559999,José\n".encode("latin-1"))
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, path)
    assert_unreadable(info, 602)
    assert "UTF-8" in str(info.value)
    assert contacts_of(database_url, audience.id) == []

    utf16 = tmp_path / "utf16.csv"
    utf16.write_text("phone,name\n+12125550101,a\n", encoding="utf-16")
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, utf16)
    assert_unreadable(info, 1)
    # Created with its import in one transaction: no empty audience is left either.
    with pytest.raises(ValidationError):
        client.create_audience_from_csv("never", path)
    assert "never" not in [a.name for a in client.audiences()]


def test_a_cell_over_the_csv_field_limit_is_refused_at_its_line(client, tmp_path, database_url):
    audience = client.create_audience("huge")
    path = tmp_path / "huge.csv"
    path.write_text("phone,name\n+12125550101,a\n+12125550102,a\n+12125550103,a\n"
                    "+12125550104,a\n+12125550105," + "x" * (csv.field_size_limit() + 1) + "\n")
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, path)
    assert_unreadable(info, 6)
    assert contacts_of(database_url, audience.id) == []


def test_a_file_that_cannot_be_opened_names_csv_path(client, tmp_path, monkeypatch):
    audience = client.create_audience("closed")
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, tmp_path / "missing.csv")
    assert info.value.fields == ["csv_path"]
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, tmp_path)  # a folder
    assert info.value.fields == ["csv_path"]

    path = tmp_path / "locked.csv"
    path.write_text("phone\n+12125550101\n")

    def denied(*args, **kwargs):  # the tests run as root, where chmod 000 denies nothing
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(ValidationError) as info:
        client.import_contacts(audience.id, path)
    assert info.value.fields == ["csv_path"]
    assert "Permission denied" in str(info.value)


def test_blank_lines_are_skipped_not_rejected(client, tmp_path, database_url):
    audience = client.create_audience("blank")
    path = tmp_path / "blank.csv"
    path.write_bytes(b"phone,name\r\n+12125550101,a\r\n\r\n,\r\n , \r\n,,,\r\n"
                     b"+12125550102,b\r\n\r\n\r\n")
    report = client.import_contacts(audience.id, path)
    assert (report.imported, report.rejected) == (2, [])
    assert contacts_of(database_url, audience.id) == [("+12125550101", "a"),
                                                      ("+12125550102", "b")]


def test_a_utf8_bom_does_not_hide_the_phone_column(client, tmp_path, database_url):
    audience = client.create_audience("bom")
    path = tmp_path / "bom.csv"  # as spreadsheet programs write "CSV UTF-8"
    path.write_bytes("phone,name\r\n+12125550101,Zoë\r\n".encode("utf-8-sig"))
    report = client.import_contacts(audience.id, path)
    assert (report.imported, report.rejected) == (1, [])
    assert contacts_of(database_url, audience.id) == [("+12125550101", "Zoë")]


def test_overlapping_imports_restore_the_switch_interval(client, tmp_path):
    # The interval is process-wide: with each import saving and restoring it on its
    # own, the one that started second and ended last put back the lowered value.
    before = sys.getswitchinterval()
    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run(name: str, on_progress) -> None:
        path = tmp_path / f"{name}.csv"
        path.write_text("phone\n+12125550101\n")
        try:
            client.import_contacts(client.create_audience(name).id, path,
                                   on_progress=on_progress)
        except BaseException as exc:
            errors.append(exc)

    def first_waits(_offset: int) -> None:
        first_in.set()
        assert second_in.wait(10)

    def second_waits(_offset: int) -> None:
        second_in.set()
        assert first_done.wait(10)

    first = threading.Thread(target=run, args=("first", first_waits))
    first.start()
    assert first_in.wait(10)
    second = threading.Thread(target=run, args=("second", second_waits))
    second.start()
    first.join(10)
    first_done.set()
    second.join(10)
    assert errors == []
    assert sys.getswitchinterval() == before


def test_the_switch_interval_is_restored_when_the_loader_cannot_start(
        client, tmp_path, monkeypatch):
    before = sys.getswitchinterval()

    class NoThread:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(csv_import, "_ChunkLoader", NoThread)
    path = tmp_path / "contacts.csv"
    path.write_text("phone\n+12125550101\n")
    with pytest.raises(RuntimeError):
        client.import_contacts(client.create_audience("nothread").id, path)
    assert sys.getswitchinterval() == before


def test_a_secondary_phones_column_gives_the_contact_its_other_numbers(
        client, tmp_path, database_url):
    audience = client.create_audience("numbers")
    path = tmp_path / "numbers.csv"
    path.write_text("phone,secondary_phones,plan\n"
                    "+14155550124,+14155550125; (415) 555-0126,gold\n"
                    "+14155550127,,silver\n"
                    "+14155550128,+14155550129|not a number,\n")
    report = client.import_contacts(audience.id, path)
    assert report.imported == 2
    assert [(row, error.split(":")[0]) for row, error in rejected_of(report)] == [
        (4, "secondary_phones")]
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT phone, secondary_phones, attributes FROM contacts "
            "WHERE audience_id = :a ORDER BY id"), {"a": audience.id}).all()
    engine.dispose()
    # Normalised like the primary, in order; the column is no attribute.
    assert [tuple(r) for r in stored] == [
        ("+14155550124", ["+14155550125", "+14155550126"], {"plan": "gold"}),
        ("+14155550127", [], {"plan": "silver"})]
