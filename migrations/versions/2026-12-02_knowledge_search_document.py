"""Knowledge search: a stored swedish tsvector per article instead of an expression index

Ranking read the expression index's vector by parsing each matched article's title and body
again (twice: the recheck and ts_rank); a stored vector is parsed once, when it is written.

Revision ID: e1d4a7c90121
Revises: c9e4f2a70601
Create Date: 2026-12-02 20:00:00
"""

from alembic import op

revision = 'e1d4a7c90121'
down_revision = 'c9e4f2a70601'
branch_labels = None
depends_on = None

SEARCH_VECTOR_SQL = ("setweight(to_tsvector('swedish', search_title), 'A') || "
                     "setweight(to_tsvector('swedish', search_body), 'B')")


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite searches its FTS5 table
    op.execute("DROP INDEX ix_knowledge_articles_search")
    op.execute(f"ALTER TABLE knowledge_articles ADD COLUMN search_document tsvector "
               f"GENERATED ALWAYS AS ({SEARCH_VECTOR_SQL}) STORED")
    op.execute("CREATE INDEX ix_knowledge_articles_document ON knowledge_articles "
               "USING gin (search_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP INDEX ix_knowledge_articles_document")
    op.execute("ALTER TABLE knowledge_articles DROP COLUMN search_document")
    op.execute(f"CREATE INDEX ix_knowledge_articles_search ON knowledge_articles "
               f"USING gin (({SEARCH_VECTOR_SQL}))")
