"""Cases: the diarienummer of the records system (allmän handling), indexed where set

Revision ID: e3b7d2a50101
Revises: e4c1a7d30121
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e3b7d2a50101'
down_revision = 'e4c1a7d30121'
branch_labels = None
depends_on = None

REGISTERED = 'diarienummer IS NOT NULL'


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('diarienummer', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_cases_diarienummer', ['diarienummer'], unique=False,
                              postgresql_where=sa.text(REGISTERED),
                              sqlite_where=sa.text(REGISTERED))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_diarienummer')
        batch_op.drop_column('diarienummer')
