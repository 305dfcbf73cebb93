"""campaigns.channels generated from the spec: one source for a campaign's channel count

Until now the count lived twice, in ``spec.pacing.channels`` and in this column
(which ``allocate_channels`` changed and readers used to override the spec).
The spec becomes the one source: the column is computed from it and stays only
so that views, metrics and readiness can read the count without parsing JSON. Existing
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

# Any JSON at all gives a count and never an error: a stored spec that no longer
# parses (service/isolation.py fails such a campaign) must stay writable, and reads 0.
CHANNELS_FROM_SPEC = (
    "CASE WHEN jsonb_typeof(spec -> 'pacing' -> 'channels') = 'number' "
    "THEN LEAST(GREATEST((spec -> 'pacing' ->> 'channels')::numeric, 0), 2147483647)::integer "
    "ELSE 0 END")


def upgrade() -> None:
    # A spec whose pacing is not an object no longer parses at all: left as it is.
    op.execute("""
        UPDATE campaigns
        SET spec = jsonb_set(spec, '{pacing,channels}', to_jsonb(channels))
        WHERE jsonb_typeof(spec -> 'pacing') = 'object'
          AND (spec -> 'pacing' -> 'channels') IS DISTINCT FROM to_jsonb(channels)
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
