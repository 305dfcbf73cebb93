"""remote request ids: idempotent enqueue, applied commands, rejected once

Issue #11 (part A): a redelivered dialer.enqueue_campaign without external_id
finds the campaign its task id created; a redelivered dialer.campaign_command
is refused once its task id is recorded as applied; a redelivered bad request
is recorded once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 03:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('campaigns', sa.Column('request_id', sa.String(length=255), nullable=True))
    op.create_unique_constraint(op.f('uq_campaigns_request_id'), 'campaigns', ['request_id'])
    op.add_column('rejected_requests',
                  sa.Column('request_id', sa.String(length=255), nullable=True))
    op.create_unique_constraint(op.f('uq_rejected_requests_request_id'), 'rejected_requests',
                                ['request_id'])
    op.create_table('applied_commands',
    sa.Column('command_id', sa.String(length=255), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('command', sa.String(length=40), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('command_id', name=op.f('pk_applied_commands'))
    )


def downgrade() -> None:
    op.drop_table('applied_commands')
    op.drop_constraint(op.f('uq_rejected_requests_request_id'), 'rejected_requests',
                       type_='unique')
    op.drop_column('rejected_requests', 'request_id')
    op.drop_constraint(op.f('uq_campaigns_request_id'), 'campaigns', type_='unique')
    op.drop_column('campaigns', 'request_id')
