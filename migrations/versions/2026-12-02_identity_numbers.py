"""Personal identity numbers found in case text, sealed and keyed-hashed

Revision ID: c4f8a2d10081
Revises: b2e7f4a10071
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c4f8a2d10081'
down_revision = 'b2e7f4a10071'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'identity_numbers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('sealed', sa.Text(), nullable=False),
        sa.Column('lookup_hash', sa.String(length=64), nullable=False),
        sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_identity_numbers_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name=op.f('fk_identity_numbers_message_id_messages'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_numbers')),
    )
    with op.batch_alter_table('identity_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_numbers_case_id'), ['case_id'])
        batch_op.create_index(batch_op.f('ix_identity_numbers_message_id'), ['message_id'])
        batch_op.create_index(batch_op.f('ix_identity_numbers_lookup_hash'), ['lookup_hash'])


def downgrade() -> None:
    op.drop_table('identity_numbers')
