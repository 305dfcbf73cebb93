"""Shared set-up and measuring helpers for the benchmarks.

Each benchmark has a database and a Redis db of its own, emptied first:
``dialer_bench_*`` databases and Redis dbs 10 and 11 only.
"""

from __future__ import annotations

import os
from pathlib import Path

import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models.db import upgrade

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def fresh_state(database_url: str, redis_url: str) -> None:
    """Drop and recreate the bench database (migrated) and flush the bench Redis db."""
    name = make_url(database_url).database
    assert name and name.startswith("dialer_bench_"), f"not a bench database: {name}"
    admin = sa.create_engine(make_url(database_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    upgrade(database_url)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces; the fields after its closing paren do not.
    return raw[raw.rindex(")") + 2:].split()


def process_tree(root_pid: int) -> list[int]:
    """``root_pid`` and every live descendant (a prefork worker and its children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (e.g. ``postgres``, ``redis-server``)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm == name:
                out.append(int(entry.name))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (gone ones count 0)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS_PER_S


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of these processes, summed."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[21]) * _PAGE_BYTES
    return total
