"""campaigns.channels generated from the spec: one source for a campaign's channel count

Until now the count lived twice, in ``spec.pacing.channels`` and in this column
(which ``allocate_channels`` changed and readers used to override the spec).
The spec becomes the one source: the column is computed from it and stays only
so that the hot path's SQL can read the count without parsing JSON. Existing
rows first copy the column into their spec, so an allocation is kept.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

CHANNELS_FROM_SPEC = "(spec -> 'pacing' ->> 'channels')::integer"


def upgrade() -> None:
    op.execute("""
        UPDATE campaigns SET spec = jsonb_set(
            spec, '{pacing}',
            COALESCE(spec -> 'pacing', '{}'::jsonb) || jsonb_build_object('channels', channels))
        WHERE (spec -> 'pacing' ->> 'channels') IS DISTINCT FROM channels::text
    """)
    op.drop_column('campaigns', 'channels')
    op.add_column('campaigns', sa.Column(
        'channels', sa.Integer(), sa.Computed(CHANNELS_FROM_SPEC, persisted=True),
        nullable=False))


def downgrade() -> None:
    op.drop_column('campaigns', 'channels')
    op.add_column('campaigns', sa.Column('channels', sa.Integer(), nullable=True))
    op.execute(f"UPDATE campaigns SET channels = {CHANNELS_FROM_SPEC}")
    op.alter_column('campaigns', 'channels', nullable=False)
