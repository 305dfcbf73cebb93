"""campaigns.dispatch_failures: consecutive failed dispatches of one campaign

Counted in PostgreSQL so that every worker sees the same count and a restart
does not forget it; a campaign reaching the limit moves to ``failed``
(dialer/service/isolation.py).

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('campaigns', sa.Column('dispatch_failures', sa.Integer(), nullable=False,
                                         server_default='0'))


def downgrade() -> None:
    op.drop_column('campaigns', 'dispatch_failures')
