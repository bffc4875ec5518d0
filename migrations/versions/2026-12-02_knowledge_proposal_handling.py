"""Proposed article changes reach their owner: mailed to the department, then handled

Revision ID: c9f4a1e60161
Revises: b6e2c9d40151
Create Date: 2026-12-02 23:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c9f4a1e60161'
down_revision = 'b6e2c9d40151'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('knowledge_proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('handled_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_knowledge_proposals_handled_at'), ['handled_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('knowledge_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_proposals_handled_at'))
        for column in ('handled_at', 'handled_by', 'outcome', 'notified_at'):
            batch_op.drop_column(column)
