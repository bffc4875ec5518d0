"""Citizen's view of a case: staff revoke a case's /mitt-arende links

Revision ID: c2f6a9d10501
Revises: d5b8e2f60311
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c2f6a9d10501'
down_revision = 'd5b8e2f60311'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'citizen_link_revocations',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_citizen_link_revocations_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_citizen_link_revocations')),
    )


def downgrade() -> None:
    op.drop_table('citizen_link_revocations')
