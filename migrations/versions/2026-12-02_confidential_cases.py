"""Confidential cases (sekretess): the OSL provision, when and by whom a case was marked

Revision ID: e3b9c5d70101
Revises: d1a6e9b40091
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e3b9c5d70101'
down_revision = 'd1a6e9b40091'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('confidential_reason', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('confidential_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('confidential_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('confidential_by')
        batch.drop_column('confidential_at')
        batch.drop_column('confidential_reason')
