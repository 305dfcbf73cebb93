"""The call log's index (issue 14, "every call visible"): a campaign's calls in the order
they were queued, which the call log pages, filters by time and exports in.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_calls_campaign_queued', 'calls',
                    ['campaign_id', 'queued_at', 'attempt', 'id'])


def downgrade() -> None:
    op.drop_index('ix_calls_campaign_queued', table_name='calls')
