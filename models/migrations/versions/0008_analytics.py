"""Analytics (issue 14): the two indexes the campaign analytics read, made covering.

- ix_calls_campaign_placed (campaign_id, placed_at) now INCLUDEs participant_id,
  execution_number, attempt, from_number, outcome and goal_achieved: the funnel, the
  heatmap, the pickup rates and the executions' progress read a campaign's calls from
  it alone. Replaced rather than added beside it: a call row's updates change its
  status, which is indexed, so none is a HOT update and every index of calls is
  written each time; one index more would cost every dial and result.
- ix_participants_due (campaign_id, status, next_attempt_at) now INCLUDEs id: the
  funnel and the executions join participants to calls by id.

DROP INDEX takes an ACCESS EXCLUSIVE lock on its table, calls and then participants:
every read and write of either waits from its drop until the upgrade commits
(models/db.py runs the pending revisions in one transaction), the indexes' rebuilds
included (seconds per million calls: bench/RESULTS.md, issue 14). Upgrade with the
dialer paused; the console's and the API's reads wait as well.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CALL_COLUMNS = ['participant_id', 'execution_number', 'attempt', 'from_number', 'outcome',
                'goal_achieved']


def upgrade() -> None:
    op.drop_index('ix_calls_campaign_placed', table_name='calls')
    op.create_index('ix_calls_campaign_placed', 'calls', ['campaign_id', 'placed_at'],
                    postgresql_include=CALL_COLUMNS)
    op.drop_index('ix_participants_due', table_name='participants')
    op.create_index('ix_participants_due', 'participants',
                    ['campaign_id', 'status', 'next_attempt_at'], postgresql_include=['id'])


def downgrade() -> None:
    op.drop_index('ix_participants_due', table_name='participants')
    op.create_index('ix_participants_due', 'participants',
                    ['campaign_id', 'status', 'next_attempt_at'])
    op.drop_index('ix_calls_campaign_placed', table_name='calls')
    op.create_index('ix_calls_campaign_placed', 'calls', ['campaign_id', 'placed_at'])
