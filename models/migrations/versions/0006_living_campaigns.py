"""Living campaigns (issue 14): the columns that editing, leads, secondary numbers,
failure and call details need.

- contacts.removed_at: a contact taken out of its audience is kept (its calls and its
  campaign history stay), only marked; added again, it comes back.
- participants.phone_index / phone_attempts / answered_phone: which of the contact's
  numbers is being dialed (0 the primary, k the k-th secondary), the attempts on that
  number in this cycle (``attempts`` stays the cycle's total, so a call is still
  unique per participant, cycle and attempt), and the number that answered.
- calls.recording_url / transcript_url / cost: what a provider may report with a result.
- campaigns.error / failed_at: why and when a campaign failed (Atoms shows both).

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('contacts', sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('participants', sa.Column('phone_index', sa.Integer(), nullable=False,
                                            server_default='0'))
    op.add_column('participants', sa.Column('phone_attempts', sa.Integer(), nullable=False,
                                            server_default='0'))
    op.add_column('participants', sa.Column('answered_phone', sa.String(20), nullable=True))
    op.add_column('calls', sa.Column('recording_url', sa.Text(), nullable=True))
    op.add_column('calls', sa.Column('transcript_url', sa.Text(), nullable=True))
    op.add_column('calls', sa.Column('cost', sa.Numeric(14, 6), nullable=True))
    op.add_column('campaigns', sa.Column('error', sa.Text(), nullable=True))
    op.add_column('campaigns', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    # Existing participants: every attempt so far was on the primary number.
    op.execute("UPDATE participants SET phone_attempts = attempts WHERE attempts > 0")


def downgrade() -> None:
    op.drop_column('campaigns', 'failed_at')
    op.drop_column('campaigns', 'error')
    op.drop_column('calls', 'cost')
    op.drop_column('calls', 'transcript_url')
    op.drop_column('calls', 'recording_url')
    op.drop_column('participants', 'answered_phone')
    op.drop_column('participants', 'phone_attempts')
    op.drop_column('participants', 'phone_index')
    op.drop_column('contacts', 'removed_at')
