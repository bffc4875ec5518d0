"""Cases: the waiting index holds the confidentiality marking, so a guide's count of the
cases they could take stays index-only while it leaves out confidential ones

Revision ID: b7e3f9a40201
Revises: a5d2c7e30191
Create Date: 2026-12-03 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7e3f9a40201'
down_revision = 'a5d2c7e30191'
branch_labels = None
depends_on = None

WAITING = 'assignee_id IS NULL AND waiting_since IS NOT NULL'


def _index(columns: list[str]) -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_waiting_queue')
        batch_op.create_index('ix_cases_waiting_queue', columns, unique=False,
                              postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def upgrade() -> None:
    _index(['queue_id', 'status', 'contact_id', 'confidential_at'])


def downgrade() -> None:
    _index(['queue_id', 'status', 'contact_id'])
