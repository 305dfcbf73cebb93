"""organisations and API keys: every top-level record belongs to one organisation

Creates ``organisations`` and ``api_keys``, then the organisation ``default``, and
moves every existing phone number, audience, DNC entry, campaign and rejected request
into it (contacts, participants, calls, events, skips and executions belong through
their audience or campaign). Uniqueness becomes per organisation: a caller ID, a DNC
number and a campaign's external id are unique within one organisation.

``default``'s channel cap is NULL: it follows DIALER_ORG_CHANNEL_CAP, as the single
organisation always did.

Revision ID: 0005
Revises: 0004
"""

import secrets
import uuid
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OWNED = ('phone_numbers', 'audiences', 'dnc', 'campaigns', 'rejected_requests')


def upgrade() -> None:
    op.create_table(
        'organisations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('channel_cap', sa.Integer(), nullable=True),
        sa.Column('webhook_secret', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
        sa.UniqueConstraint('name', name=op.f('uq_organisations_name')))
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('org_id', sa.String(length=36), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE',
                                name=op.f('fk_api_keys_org_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix')))
    op.create_index(op.f('ix_api_keys_org_id'), 'api_keys', ['org_id'], unique=False)

    default_id = str(uuid.uuid4())
    op.get_bind().execute(
        sa.text("INSERT INTO organisations (id, name, channel_cap, webhook_secret, created_at) "
                "VALUES (:id, 'default', NULL, :secret, :now)"),
        {"id": default_id, "secret": secrets.token_hex(32), "now": datetime.now(UTC)})

    for table in OWNED:
        op.add_column(table, sa.Column('org_id', sa.String(length=36), nullable=True))
        op.get_bind().execute(sa.text(f"UPDATE {table} SET org_id = :id"), {"id": default_id})
        if table != 'rejected_requests':  # NULL there: a request naming an unknown org
            op.alter_column(table, 'org_id', nullable=False)
        op.create_foreign_key(op.f(f'fk_{table}_org_id_organisations'), table,
                              'organisations', ['org_id'], ['id'], ondelete='CASCADE')
        if table != 'dnc':  # the primary key below leads with org_id
            op.create_index(op.f(f'ix_{table}_org_id'), table, ['org_id'], unique=False)

    op.drop_constraint('uq_phone_numbers_number', 'phone_numbers', type_='unique')
    op.create_unique_constraint('uq_phone_numbers_org_number', 'phone_numbers',
                                ['org_id', 'number'])
    op.drop_constraint('uq_campaigns_external_id', 'campaigns', type_='unique')
    op.create_unique_constraint('uq_campaigns_org_external_id', 'campaigns',
                                ['org_id', 'external_id'])
    op.drop_constraint('pk_dnc', 'dnc', type_='primary')
    op.create_primary_key('pk_dnc', 'dnc', ['org_id', 'phone'])


def downgrade() -> None:
    # Only a single-organisation database goes back: rows of other organisations
    # would collide once uniqueness is global again.
    others = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM organisations WHERE name <> 'default'"))
    if others:
        raise RuntimeError("downgrade below 0005 needs a database with only the "
                           "organisation 'default'")
    op.drop_constraint('pk_dnc', 'dnc', type_='primary')
    op.create_primary_key('pk_dnc', 'dnc', ['phone'])
    op.drop_constraint('uq_campaigns_org_external_id', 'campaigns', type_='unique')
    op.create_unique_constraint('uq_campaigns_external_id', 'campaigns', ['external_id'])
    op.drop_constraint('uq_phone_numbers_org_number', 'phone_numbers', type_='unique')
    op.create_unique_constraint('uq_phone_numbers_number', 'phone_numbers', ['number'])
    for table in OWNED:
        if table != 'dnc':
            op.drop_index(op.f(f'ix_{table}_org_id'), table_name=table)
        op.drop_constraint(op.f(f'fk_{table}_org_id_organisations'), table, type_='foreignkey')
        op.drop_column(table, 'org_id')
    op.drop_index(op.f('ix_api_keys_org_id'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_table('organisations')
