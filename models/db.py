"""Engines, sessions and schema migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    # pre_ping: a restarted PostgreSQL leaves dead pooled connections behind;
    # checking on checkout lets workers carry on without a restart.
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=10,
        pool_recycle=1800,
        future=True,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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


def alembic_config(database_url: str):  # -> alembic.config.Config
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
