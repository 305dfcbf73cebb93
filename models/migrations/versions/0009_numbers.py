"""Since when a running campaign has had no active caller ID (issue 14): past
DIALER_FAIL_NO_CALLER_ID_AFTER_S of that, it fails. NULL while it has one.

Kept on the campaign row that every dispatch already locks and updates, so the
tick learns "a caller ID is back" without reading anything more.

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('campaigns', sa.Column('no_caller_id_since', sa.DateTime(timezone=True),
                                         nullable=True))


def downgrade() -> None:
    op.drop_column('campaigns', 'no_caller_id_since')
