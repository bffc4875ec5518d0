"""Cases answered with a knowledge article, and the searches made in the knowledge base

Revision ID: b4e7d1a90511
Revises: e4a2c6b80711
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b4e7d1a90511'
down_revision = 'e4a2c6b80711'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'knowledge_uses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('used_by', sa.String(length=100), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'],
                                name=op.f('fk_knowledge_uses_article_id_knowledge_articles')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE',
                                name=op.f('fk_knowledge_uses_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_uses')),
        sa.UniqueConstraint('case_id', 'article_id', name=op.f('uq_knowledge_uses_case_id')),
    )
    op.create_index('ix_knowledge_uses_article_id', 'knowledge_uses', ['article_id'])
    op.create_index('ix_knowledge_uses_used_at', 'knowledge_uses', ['used_at'])
    op.create_table(
        'knowledge_searches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('query', sa.String(length=200), nullable=False),
        sa.Column('results', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=True),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('searched_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_searches')),
    )
    op.create_index('ix_knowledge_searches_searched_at', 'knowledge_searches', ['searched_at'])


def downgrade() -> None:
    op.drop_index('ix_knowledge_searches_searched_at', table_name='knowledge_searches')
    op.drop_table('knowledge_searches')
    op.drop_index('ix_knowledge_uses_used_at', table_name='knowledge_uses')
    op.drop_index('ix_knowledge_uses_article_id', table_name='knowledge_uses')
    op.drop_table('knowledge_uses')
