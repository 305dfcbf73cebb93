"""Removed caller IDs: phone_numbers.removed_at. A removed number is kept (calls name it
as their from_number, campaigns list it by id in phone_number_ids), only marked and
made inactive; added again, the same row comes back.

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('phone_numbers', sa.Column('removed_at', sa.DateTime(timezone=True),
                                             nullable=True))


def downgrade() -> None:
    op.drop_column('phone_numbers', 'removed_at')
