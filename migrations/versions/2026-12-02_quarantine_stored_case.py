"""Quarantined mail names the case a retry stored it on, so erasing the case finds it by id

Revision ID: a3d8e5f20141
Revises: f2b7c4d10131
Create Date: 2026-12-02 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'a3d8e5f20141'
down_revision = 'f2b7c4d10131'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quarantined_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stored_case_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_quarantined_emails_stored_case_id'),
                              ['stored_case_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_quarantined_emails_stored_case_id_cases'), 'cases',
            ['stored_case_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('quarantined_emails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_quarantined_emails_stored_case_id_cases'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_quarantined_emails_stored_case_id'))
        batch_op.drop_column('stored_case_id')
