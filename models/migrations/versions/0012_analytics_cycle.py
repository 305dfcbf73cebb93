"""Analytics: ix_calls_campaign_placed INCLUDEs cycle as well.

The executions' progress counts each contact once per cycle (its calls grouped by
``execution_number, participant_id, cycle``, which PostgreSQL hashes: ``EXECUTIONS`` in
dialer/store/analytics.py), and cycle was not among the columns 0008_analytics made
the index carry: that query read every one of the campaign's call rows from the heap
again, on every ``get`` of a campaign as well as its execution summary. Replaced
rather than added beside it, as in 0008: every index of calls is written on each of a
call's updates, so the number of indexes stays the same and only this one's entries
widen (by 4 bytes of an integer).

DROP INDEX takes an ACCESS EXCLUSIVE lock on calls: every read and write of calls
waits from the drop until the upgrade commits (models/db.py runs the pending revisions
in one transaction), the index's rebuild included (seconds per million calls:
bench/RESULTS.md, issue 14). Upgrade with the dialer paused; the console's and the
API's reads of calls wait as well.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BEFORE = ['participant_id', 'execution_number', 'attempt', 'from_number', 'outcome',
          'goal_achieved']
CALL_COLUMNS = [*BEFORE, 'cycle']


def upgrade() -> None:
    _replace(CALL_COLUMNS)


def downgrade() -> None:
    _replace(BEFORE)


def _replace(include: list[str]) -> None:
    op.drop_index('ix_calls_campaign_placed', table_name='calls')
    op.create_index('ix_calls_campaign_placed', 'calls', ['campaign_id', 'placed_at'],
                    postgresql_include=include)
