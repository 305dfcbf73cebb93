"""Migrations on a database that already holds campaigns (its own database, not the
suite's, which is migrated once to head)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dialer.spec import CampaignSpec, parse_campaign_spec
from models.db import upgrade
from tests.support.scenario import campaign_spec

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def migrations_url(database_url: str) -> Iterator[str]:
    url = make_url(database_url)
    url = url.set(database=f"{url.database}_migrations")
    _drop(url)
    yield url.render_as_string(hide_password=False)
    _drop(url)


def _drop(url: sa.URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def _insert_campaign(conn: sa.Connection, audience_id: str, *, spec_channels: int,
                     column_channels: int) -> str:
    spec = parse_campaign_spec(campaign_spec(audience_id, pacing={
        "channels": spec_channels, "calls_per_minute": 12}), now=NOW).model_dump(mode="json")
    campaign_id = str(uuid.uuid4())
    conn.execute(sa.text("""
        INSERT INTO campaigns (id, name, agent_id, audience_id, phone_number_ids, spec, status,
            timezone, priority, channels, breaker_open, caller_id_cursor, created_at, updated_at)
        VALUES (:id, 'old', 'agent-1', :audience_id, '[]', CAST(:spec AS jsonb), 'paused',
            'America/New_York', 0, :channels, false, 0, :now, :now)
    """), {"id": campaign_id, "audience_id": audience_id, "spec": json.dumps(spec),
           "channels": column_channels, "now": NOW})
    return campaign_id


def _channels(engine: sa.Engine) -> dict[str, tuple[int, dict]]:
    with engine.connect() as conn:
        return {cid: (channels, spec) for cid, channels, spec in conn.execute(
            sa.text("SELECT id, channels, spec FROM campaigns"))}


def _channels_of(conn: sa.Connection, campaign_id: str) -> int:
    return conn.execute(sa.text("SELECT channels FROM campaigns WHERE id = :id"),
                        {"id": campaign_id}).scalar_one()


def test_0004_keeps_allocated_channels_and_makes_the_spec_their_one_source(migrations_url):
    upgrade(migrations_url, "0003")
    engine = sa.create_engine(migrations_url)
    try:
        with engine.begin() as conn:
            audience_id = str(uuid.uuid4())
            conn.execute(sa.text("INSERT INTO audiences (id, name, created_at) "
                                 "VALUES (:id, 'a', :now)"), {"id": audience_id, "now": NOW})
            # Channels re-allocated after creation lived only in the column.
            allocated = _insert_campaign(conn, audience_id, spec_channels=2, column_channels=7)
            untouched = _insert_campaign(conn, audience_id, spec_channels=3, column_channels=3)
            # A stored spec that no longer parses (service/isolation.py) stays as it is.
            poisoned = _insert_campaign(conn, audience_id, spec_channels=4, column_channels=4)
            conn.execute(sa.text("UPDATE campaigns SET spec = jsonb_set(spec, '{pacing}', "
                                 "'\"fast\"') WHERE id = :id"), {"id": poisoned})
        upgrade(migrations_url)
        after = _channels(engine)
        assert after[poisoned][0] == 0 and after[poisoned][1]["pacing"] == "fast"
        assert after[allocated][0] == 7 and after[allocated][1]["pacing"]["channels"] == 7
        assert after[untouched][0] == 3 and after[untouched][1]["pacing"]["channels"] == 3
        # The rest of the spec is unchanged and still parses.
        assert after[allocated][1]["pacing"]["calls_per_minute"] == 12
        assert CampaignSpec.model_validate(after[allocated][1]).pacing.channels == 7
        # The column follows the spec from now on, whatever JSON it holds, and cannot be
        # written on its own.
        with engine.begin() as conn:
            for value, channels in (('"many"', 0), ("1e12", 2**31 - 1), ("-3", 0), ("5", 5)):
                conn.execute(sa.text(
                    "UPDATE campaigns SET spec = jsonb_set(spec, '{pacing,channels}', "
                    "CAST(:value AS jsonb)) WHERE id = :id"), {"id": untouched, "value": value})
                assert _channels_of(conn, untouched) == channels, value
        with pytest.raises(sa.exc.ProgrammingError, match="generated"), engine.begin() as conn:
            conn.execute(sa.text("UPDATE campaigns SET channels = 1"))
        # And back: the plain column keeps the count.
        engine.dispose()
        _downgrade(migrations_url, "0003")
        assert {cid: channels for cid, (channels, _) in _channels(engine).items()} == {
            allocated: 7, untouched: 5, poisoned: 0}
    finally:
        engine.dispose()


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from models.db import alembic_config

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def test_0005_moves_every_existing_row_into_the_organisation_default(migrations_url):
    upgrade(migrations_url, "0004")
    engine = sa.create_engine(migrations_url)
    try:
        with engine.begin() as conn:
            audience_id = str(uuid.uuid4())
            conn.execute(sa.text("INSERT INTO audiences (id, name, created_at) "
                                 "VALUES (:id, 'a', :now)"), {"id": audience_id, "now": NOW})
            conn.execute(sa.text("INSERT INTO contacts (audience_id, phone, attributes, "
                                 "secondary_phones) VALUES (:a, '+12125550100', '{}', '[]')"),
                         {"a": audience_id})
            conn.execute(sa.text("INSERT INTO phone_numbers (id, number, provider, is_active, "
                                 "created_at) VALUES (:id, '+12125550199', 'simulated', true, "
                                 ":now)"), {"id": str(uuid.uuid4()), "now": NOW})
            conn.execute(sa.text("INSERT INTO dnc (phone, added_at) VALUES "
                                 "('+12125550111', :now)"), {"now": NOW})
            conn.execute(sa.text("INSERT INTO rejected_requests (at, task, errors, payload) "
                                 "VALUES (:now, 'dialer.enqueue_campaign', '[]', '{}')"),
                         {"now": NOW})
            spec = parse_campaign_spec(campaign_spec(audience_id), now=NOW)
            campaign_id = str(uuid.uuid4())
            conn.execute(sa.text("""
                INSERT INTO campaigns (id, name, agent_id, audience_id, phone_number_ids, spec,
                    status, timezone, priority, breaker_open, caller_id_cursor, created_at,
                    updated_at, external_id)
                VALUES (:id, 'old', 'agent-1', :audience_id, '[]', CAST(:spec AS jsonb),
                    'paused', 'America/New_York', 0, false, 0, :now, :now, 'crm-1')
            """), {"id": campaign_id, "audience_id": audience_id,
                   "spec": json.dumps(spec.model_dump(mode="json")), "now": NOW})
        upgrade(migrations_url)
        with engine.connect() as conn:
            (default_id, cap), = conn.execute(sa.text(
                "SELECT id, channel_cap FROM organisations WHERE name = 'default'")).all()
            assert cap is None  # follows DIALER_ORG_CHANNEL_CAP, as before
            for table in ("phone_numbers", "audiences", "dnc", "campaigns",
                          "rejected_requests"):
                owners = conn.execute(sa.text(f"SELECT DISTINCT org_id FROM {table}")).all()
                assert owners == [(default_id,)], table
        # Uniqueness is per organisation now: another may use the same external id.
        with engine.begin() as conn:
            other = str(uuid.uuid4())
            conn.execute(sa.text("INSERT INTO organisations (id, name, webhook_secret, "
                                 "created_at) VALUES (:id, 'acme', 's', :now)"),
                         {"id": other, "now": NOW})
            conn.execute(sa.text("INSERT INTO dnc (org_id, phone, added_at) VALUES "
                                 "(:org, '+12125550111', :now)"), {"org": other, "now": NOW})
            conn.execute(sa.text("DELETE FROM organisations WHERE id = :id"), {"id": other})
        # Upgrading again changes nothing (dialer db upgrade is idempotent).
        upgrade(migrations_url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM organisations")).scalar() == 1
        engine.dispose()
        _downgrade(migrations_url, "0004")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM campaigns WHERE "
                                        "external_id = 'crm-1'")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM dnc")).scalar() == 1
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_tables_the_models_declare(migrations_url):
    """Every column, index and constraint of models/tables.py has its migration, and no
    migration leaves one the models do not know (alembic's own comparison)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from models.base import Base

    upgrade(migrations_url)
    engine = sa.create_engine(migrations_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_the_migrations_give_each_index_the_included_columns_the_models_declare(
        migrations_url):
    """alembic's comparison above ignores INCLUDE: a covering index the models widen and
    no migration does would pass it, and the analytics' index-only scans would quietly
    read the heap again."""
    from models.base import Base

    declared = {index.name: sorted(index.dialect_options["postgresql"]["include"] or [])
                for table in Base.metadata.tables.values() for index in table.indexes}
    upgrade(migrations_url)
    engine = sa.create_engine(migrations_url)
    try:
        with engine.connect() as conn:
            built = {name: sorted(columns or []) for name, columns in conn.execute(sa.text("""
                SELECT i.relname, array_agg(a.attname) FILTER (WHERE k.n > x.indnkeyatts)
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public'
                CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                WHERE i.relname = ANY(:names)
                GROUP BY i.relname, x.indnkeyatts"""), {"names": list(declared)})}
    finally:
        engine.dispose()
    assert built == declared
