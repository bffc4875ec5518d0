"""Quarantined e-mail keeps the error that stopped it and when it was re-processed

Revision ID: c3e8f0a50022
Revises: d4f1a2b60031
Create Date: 2026-11-29 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3e8f0a50022'
down_revision = 'd4f1a2b60031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quarantined_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_type', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('error_message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('traceback', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quarantined_emails', schema=None) as batch_op:
        batch_op.drop_column('stored_at')
        batch_op.drop_column('retried_at')
        batch_op.drop_column('traceback')
        batch_op.drop_column('error_message')
        batch_op.drop_column('error_type')
