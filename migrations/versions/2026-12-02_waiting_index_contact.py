"""Cases: the waiting index holds the contact, so the header's count stays index-only while
it leaves out the cases of protected contacts

Revision ID: e4c1a7d30121
Revises: e3b9f1c20111
Create Date: 2026-12-02 16:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e4c1a7d30121'
down_revision = 'e3b9f1c20111'
branch_labels = None
depends_on = None

WAITING = 'assignee_id IS NULL AND waiting_since IS NOT NULL'


def _index(columns: list[str]) -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_waiting_queue')
        batch_op.create_index('ix_cases_waiting_queue', columns, unique=False,
                              postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def upgrade() -> None:
    _index(['queue_id', 'status', 'contact_id'])


def downgrade() -> None:
    _index(['queue_id', 'status'])
