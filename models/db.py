"""Engines, sessions and schema migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class DbTimeouts:
    """Client- and server-side limits for every pooled connection (0 = off).

    ``connect_s``: libpq ``connect_timeout`` (a server that accepts and never
    answers). ``statement_s``/``lock_s``: PostgreSQL ``statement_timeout`` and
    ``lock_timeout``; a wait on a row or advisory lock longer than ``lock_s``
    fails instead of freezing the task (Celery retries it). ``idle_in_transaction_s``:
    the server ends a session left idle inside a transaction (a stuck worker),
    which releases its row locks. TCP keepalives notice a vanished server.
    """

    connect_s: int = 10
    statement_s: float = 60.0
    lock_s: float = 30.0
    idle_in_transaction_s: float = 120.0

    def connect_args(self, database_url: str) -> dict[str, Any]:
        server = [("statement_timeout", self.statement_s), ("lock_timeout", self.lock_s),
                  ("idle_in_transaction_session_timeout", self.idle_in_transaction_s)]
        options = " ".join(f"-c {name}={round(seconds * 1000)}"
                           for name, seconds in server if seconds > 0)
        # Options already in the URL are kept: ours go after them.
        existing = make_url(database_url).query.get("options")
        if isinstance(existing, tuple):
            existing = " ".join(existing)
        args: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 30,
                                "keepalives_interval": 10, "keepalives_count": 3}
        if self.connect_s > 0:
            args["connect_timeout"] = self.connect_s
        joined = " ".join(part for part in (existing, options) if part)
        if joined:
            args["options"] = joined
        return args


def make_engine(database_url: str, *, pool_size: int = 5,
                timeouts: DbTimeouts | None = None) -> Engine:
    # pre_ping: a restarted PostgreSQL leaves dead pooled connections behind;
    # checking on checkout lets workers carry on without a restart.
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=10,
        pool_recycle=1800,
        future=True,
        connect_args=(timeouts or DbTimeouts()).connect_args(database_url),
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """The unit of work of one use case: one pooled connection, one Session on it.

    Transactions are explicit: ``session.commit()`` ends one and the next
    statement begins the next, on the same connection (a checkout costs a
    pre-ping round trip, so a use case with several transactions keeps its
    connection). Whatever is not committed when the block ends is rolled
    back, so a read-only use case simply never commits.
    """
    with engine.connect() as connection:
        session = Session(bind=connection, expire_on_commit=False,
                          join_transaction_mode="rollback_only")
        try:
            yield session
        finally:
            session.close()
            if connection.in_transaction():
                connection.rollback()


@contextmanager
def unit_of_work_committed(engine: Engine) -> Iterator[Session]:
    """A use case that is one transaction: committed when the block ends cleanly."""
    with unit_of_work(engine) as session:
        yield session
        session.commit()


def ensure_database(database_url: str) -> bool:
    """Create the database named in the URL when the server answers but it is missing.

    Returns True when it had to be created.
    """
    url = make_url(database_url)
    probe = create_engine(url, future=True)
    try:
        with probe.connect():
            return False
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    finally:
        probe.dispose()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            name = url.database or "dialer"
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                conn.execute(text(f"CREATE DATABASE {quoted}"))
            except Exception as exc:  # a concurrent creator won the race
                if "already exists" not in str(exc):
                    raise
    finally:
        admin.dispose()
    return True


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or migrate the schema; idempotent."""
    from alembic import command

    ensure_database(database_url)
    engine = create_engine(database_url, future=True)
    try:
        with engine.begin() as conn:
            # Two processes upgrading at once (compose's migrate job and a
            # developer) must not both run the DDL.
            conn.execute(text("SELECT pg_advisory_xact_lock(774411)"))
            config = alembic_config(database_url)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        engine.dispose()
