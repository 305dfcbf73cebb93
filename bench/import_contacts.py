"""Import: contacts per second for a CSV through DialerClient.import_contacts, with
validation, against a raw COPY of the same file into a bare table; peak memory
of the importing process at two sizes (it must not grow with the file).

    .venv/bin/python bench/import_contacts.py [--rows 1000000] [--small 100000] [--quick]

The file is mostly E.164 numbers, as exports from a CRM usually are, with a
few numbers in national format, a few invalid ones and a few duplicates, so
every path of the validation runs. Each import runs in a child process whose
peak RSS (ru_maxrss) is read when it exits. Also printed: the cost per row of
validating a phone with the full phonenumbers parse and with the E.164 fast path.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import fresh_state  # noqa: E402

DATABASE_URL = "postgresql+psycopg://127.0.0.1:5432/dialer_bench_import"
REDIS_URL = "redis://127.0.0.1:6379/11"
AREAS = ("212", "312", "415", "617", "713", "305", "206", "404", "503", "702")
EXCHANGES = [str(e) for e in range(200, 1000) if not str(e).endswith("11")]
TARGET_PER_S = 50_000


def phone_for(index: int) -> str:
    area = AREAS[index % len(AREAS)]
    rest = index // len(AREAS)
    exchange = EXCHANGES[rest % len(EXCHANGES)]
    line = rest // len(EXCHANGES)
    return f"+1{area}{exchange}{line:04d}"


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["phone", "name", "timezone", "segment"])
        for index in range(rows):
            phone = phone_for(index)
            if index % 50 == 7:  # 2% written for people: national format
                phone = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
            elif index % 200 == 11:  # 0.5% not a number at all
                phone = f"555-{index % 100}"
            elif index % 200 == 13:  # 0.5% a duplicate of an earlier row
                phone = phone_for(index - 13)
            timezone = "America/Chicago" if index % 10 == 3 else ""
            out.writerow([phone, f"Contact {index}", timezone, ("gold", "silver", "")[index % 3]])


def raw_copy_rows_per_s(path: Path, rows: int) -> float:
    """The floor: the same bytes COPYed into a bare table, no validation, no indexes."""
    url = make_url(DATABASE_URL)
    with psycopg.connect(host=url.host, port=url.port, dbname=url.database) as conn:
        conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS raw_import "
                     "(phone text, name text, timezone text, segment text)")
        conn.execute("TRUNCATE raw_import")
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(
                "COPY raw_import FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE raw_import")
    return rows / elapsed


def phone_cost_us(path: Path, sample: int = 50_000) -> tuple[float, float]:
    from dialer.phones import normalize_e164, parse_e164

    phones = []
    with path.open(newline="") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            if index >= sample:
                break
            phones.append(row["phone"])
    costs = []
    for check in (lambda p: parse_e164(p, default_region="US"),
                  lambda p: normalize_e164(p, default_region="US")):
        started = time.perf_counter()
        for phone in phones:
            with contextlib.suppress(ValueError):
                check(phone)
        costs.append((time.perf_counter() - started) / len(phones) * 1e6)
    return costs[0], costs[1]


def child_import(path: str) -> None:
    """In its own process, so that its peak RSS is the import's alone."""
    from dialer.client import DialerClient

    client = DialerClient(database_url=DATABASE_URL, redis_url=REDIS_URL)
    audience = client.create_audience("bench import", [])
    started = time.perf_counter()
    report = client.import_contacts(audience.id, path)
    elapsed = time.perf_counter() - started
    client.close()
    print(json.dumps({"imported": report.imported, "rejected": len(report.rejected),
                      "seconds": elapsed}))


def run_import(path: Path) -> dict[str, float]:
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(path)],
                            stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, f"import child failed: {status}"
    result = json.loads(output)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="100,000 and 10,000 rows")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_import(args.child)
        return
    rows, small = (100_000, 10_000) if args.quick else (args.rows, args.small)
    workdir = Path(tempfile.mkdtemp(prefix="dialer-import-"))
    big_csv, small_csv = workdir / "big.csv", workdir / "small.csv"
    write_csv(big_csv, rows)
    write_csv(small_csv, small)
    fresh_state(DATABASE_URL, REDIS_URL)
    baseline = raw_copy_rows_per_s(big_csv, rows)
    full_us, fast_us = phone_cost_us(big_csv)
    small_run = run_import(small_csv)
    big_run = run_import(big_csv)
    rate = rows / big_run["seconds"]
    print(f"{rows:,} rows ({big_csv.stat().st_size / 1e6:.0f} MB), {os.cpu_count()} CPUs")
    print(f"baseline raw COPY rows/s          = {baseline:10,.0f}")
    print(f"import contacts/s (rows/s)        = {rate:10,.0f}   "
          f"(imported {big_run['imported']:,.0f}, rejected {big_run['rejected']:,.0f}, "
          f"{big_run['seconds']:.1f} s)")
    print(f"import / raw COPY                 = {rate / baseline:10.3f}")
    print(f"import / target {TARGET_PER_S:,}/s         = {rate / TARGET_PER_S:10.3f}")
    print(f"phone check, full parse us/row    = {full_us:10.1f}")
    print(f"phone check, E.164 fast path      = {fast_us:10.1f}")
    print(f"peak RSS at {small:>9,} rows (MB)   = {small_run['peak_rss_mb']:10.1f}")
    print(f"peak RSS at {rows:>9,} rows (MB)   = {big_run['peak_rss_mb']:10.1f}")
    print(f"peak RSS ratio (flat = 1.0)       = "
          f"{big_run['peak_rss_mb'] / small_run['peak_rss_mb']:10.2f}")
    big_csv.unlink()
    small_csv.unlink()


if __name__ == "__main__":
    main()
