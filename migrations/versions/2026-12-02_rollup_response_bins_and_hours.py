"""Rollups: response-time bins with the measures, and phone calls per Stockholm day and hour

The report page's distribution and heatmap read rollups only: each answered inquiry
counts 1 in a calendar-hours bin and an office-hours bin of its fact, cells and day
cells, and `rollup_hours` sums the phone's offered and answered calls per local day and
hour. Existing rows are filled by the rollup job: the definitions are cleared, so its
next run (the beat task, or `citizencenter refresh-rollups`) rebuilds facts and cells.

Revision ID: e8c3b5f20101
Revises: e3b7d2a50101
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e8c3b5f20101'
down_revision = 'e3b7d2a50101'
branch_labels = None
depends_on = None

# As in citizencenter/reports/models.py at this revision: 8 calendar and 7 office bins.
BINS = ([f'cases_response_bin_{i}' for i in range(8)]
        + [f'cases_response_office_bin_{i}' for i in range(7)])
TABLES = ('report_facts', 'rollup_cells', 'rollup_days')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in BINS:
                # The server default fills existing rows at once; the models write 0 too.
                batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                              server_default='0'))
    op.create_table('rollup_hours',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('calls_offered', sa.Integer(), nullable=False),
    sa.Column('calls_answered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('local_date', 'hour', 'queue', 'department',
                            name=op.f('pk_rollup_hours'))
    )
    op.execute("UPDATE rollup_state SET definitions = NULL")


def downgrade() -> None:
    op.drop_table('rollup_hours')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(BINS):
                batch_op.drop_column(name)
