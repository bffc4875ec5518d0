"""Cases: an index of the waiting ones by queue (the workspace header's count)

Revision ID: d1a6e9b40091
Revises: c4f8a2d10081
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'd1a6e9b40091'
down_revision = 'c4f8a2d10081'
branch_labels = None
depends_on = None

WAITING = 'assignee_id IS NULL AND waiting_since IS NOT NULL'


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_waiting_queue', ['queue_id', 'status'], unique=False,
                              postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_waiting_queue')
