"""Index the call events a worker has not applied yet

Revision ID: a1c4e0a10006
Revises: a1c4e0a10005
Create Date: 2026-11-27 22:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a1c4e0a10006'
down_revision = 'a1c4e0a10005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.create_index('ix_call_events_unapplied', ['id'], unique=False,
                              postgresql_where=sa.text('applied_at IS NULL'),
                              sqlite_where=sa.text('applied_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_index('ix_call_events_unapplied')
