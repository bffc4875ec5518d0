"""Calls going on now, by guide: the workspace's event stream pops the one a guide is on

Revision ID: f2b7c4d10131
Revises: e1d4a7c90121
Create Date: 2026-12-02 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f2b7c4d10131'
down_revision = 'e1d4a7c90121'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_calls_ongoing_agent_user', 'calls', ['agent_user_id', 'answered_at'],
                    postgresql_where=sa.text('finished_at IS NULL'),
                    sqlite_where=sa.text('finished_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_calls_ongoing_agent_user', table_name='calls')
