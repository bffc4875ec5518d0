"""Knowledge articles, their versions and proposed changes; Swedish full-text search

Revision ID: d5b8e2f60311
Revises: c7a3e5b20301
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'd5b8e2f60311'
down_revision = 'c7a3e5b20301'
branch_labels = None
depends_on = None

SEARCH_VECTOR_SQL = ("setweight(to_tsvector('swedish', search_title), 'A') || "
                     "setweight(to_tsvector('swedish', search_body), 'B')")


def upgrade() -> None:
    op.create_table(
        'knowledge_articles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('review_interval_months', sa.Integer(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('search_title', sa.Text(), nullable=False),
        sa.Column('search_body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_knowledge_articles_category_id_categories')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_knowledge_articles_department_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_articles')),
    )
    op.create_index('ix_knowledge_articles_department_id', 'knowledge_articles',
                    ['department_id'])
    op.create_index('ix_knowledge_articles_review_due_at', 'knowledge_articles',
                    ['review_due_at'])
    op.create_index('ix_knowledge_articles_title_trgm', 'knowledge_articles', ['search_title'],
                    postgresql_using='gin', postgresql_ops={'search_title': 'gin_trgm_ops'})
    op.create_table(
        'knowledge_article_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=True),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('changed_fields', sa.JSON(), nullable=False),
        sa.Column('changed_by', sa.String(length=100), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'],
                                name=op.f('fk_knowledge_article_versions_article_id_knowledge_articles')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article_versions')),
        sa.UniqueConstraint('article_id', 'version',
                            name=op.f('uq_knowledge_article_versions_article_id')),
    )
    op.create_table(
        'knowledge_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('article_version', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('proposed_by', sa.String(length=100), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'],
                                name=op.f('fk_knowledge_proposals_article_id_knowledge_articles')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_proposals')),
    )
    op.create_index('ix_knowledge_proposals_article_id', 'knowledge_proposals', ['article_id'])
    if op.get_bind().dialect.name == 'postgresql':
        # The Swedish full-text index the search's WHERE names, expression for expression.
        op.execute(f"CREATE INDEX ix_knowledge_articles_search ON knowledge_articles "
                   f"USING gin (({SEARCH_VECTOR_SQL}))")
    else:
        # SQLite: FTS5 over the Snowball stems the service writes (knowledge.search).
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, body)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_knowledge_articles_search")
    else:
        op.execute("DROP TABLE knowledge_fts")
    op.drop_table('knowledge_proposals')
    op.drop_table('knowledge_article_versions')
    op.drop_table('knowledge_articles')
