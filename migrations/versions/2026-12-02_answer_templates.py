"""Answer templates (svarsmallar)

Revision ID: c7a3e5b20301
Revises: a4d1c7e20201
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c7a3e5b20301'
down_revision = 'a4d1c7e20201'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'answer_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=True),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_answer_templates_category_id_categories')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_templates')),
        sa.UniqueConstraint('name', name=op.f('uq_answer_templates_name')),
    )


def downgrade() -> None:
    op.drop_table('answer_templates')
