"""Retention: rules per category and channel, legal holds, erased cases

Revision ID: f2c9a4e60111
Revises: e3b9c5d70101
Create Date: 2026-12-02 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f2c9a4e60111'
down_revision = 'e3b9c5d70101'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'retention_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=True),
        sa.Column('keep_months', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_retention_rules_category_id_categories')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_rules')),
    )
    op.create_table(
        'legal_holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('placed_by', sa.String(length=64), nullable=False),
        sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('released_by', sa.String(length=64), nullable=True),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_legal_holds_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                                name=op.f('fk_legal_holds_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds')),
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_case_id'), ['case_id'])
        batch_op.create_index(batch_op.f('ix_legal_holds_contact_id'), ['contact_id'])
    op.create_table(
        'case_erasures',
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('reference', sa.String(length=20), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_case_erasures_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rule_id'], ['retention_rules.id'],
                                name=op.f('fk_case_erasures_rule_id_retention_rules'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_erasures')),
    )
    with op.batch_alter_table('case_erasures', schema=None) as batch_op:
        batch_op.create_index('ix_case_erasures_erased_at', ['erased_at'])


def downgrade() -> None:
    op.drop_table('case_erasures')
    op.drop_table('legal_holds')
    op.drop_table('retention_rules')
