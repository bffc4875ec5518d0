"""Case search: one folded document per case, a Swedish full-text index over it

Revision ID: c9e4f2a70601
Revises: b4e7d1a90511
Create Date: 2026-12-02 18:00:00
"""

from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = 'c9e4f2a70601'
down_revision = 'b4e7d1a90511'
branch_labels = None
depends_on = None

DOCUMENT_SQL = ("setweight(to_tsvector('swedish', subject), 'A') || "
                "setweight(to_tsvector('swedish', messages), 'B') || "
                "setweight(to_tsvector('swedish', notes), 'C')")
DOCUMENT_CHARS = 200_000


def upgrade() -> None:
    op.create_table(
        'case_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('messages', sa.Text(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE',
                                name=op.f('fk_case_documents_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_documents')),
        sa.UniqueConstraint('case_id', name=op.f('uq_case_documents_case_id')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Stored, so ranking reads the vector instead of parsing each matched case's text.
        op.execute(f"ALTER TABLE case_documents ADD COLUMN document tsvector "
                   f"GENERATED ALWAYS AS ({DOCUMENT_SQL}) STORED")
        op.execute("CREATE INDEX ix_case_documents_document ON case_documents "
                   "USING gin (document)")
    else:
        # SQLite: FTS5 over the Snowball stems the service writes (cases.search).
        op.execute("CREATE VIRTUAL TABLE case_fts USING fts5(subject, messages, notes)")
    _index_existing_cases(op.get_bind())


def _index_existing_cases(connection) -> None:
    """The documents of the cases there are, as cases.search.refresh writes them."""
    from citizencenter.swedish import folded, stemmed

    rows = connection.execute(sa.text(
        "SELECT c.id, c.subject, m.direction, m.body FROM cases AS c "
        "LEFT JOIN messages AS m ON m.case_id = c.id ORDER BY c.id, m.created_at, m.id"))
    sqlite = connection.dialect.name == 'sqlite'
    for case_id, group in groupby(rows, key=lambda row: row[0]):
        group = list(group)
        conversation = [r[3] for r in group if r[3] is not None and r[2] != 'internal']
        notes = [r[3] for r in group if r[3] is not None and r[2] == 'internal']
        fields = {'subject': folded(group[0][1]),
                  'messages': folded(" ".join(conversation))[:DOCUMENT_CHARS],
                  'notes': folded(" ".join(notes))[:DOCUMENT_CHARS]}
        document_id = connection.execute(sa.text(
            "INSERT INTO case_documents (case_id, subject, messages, notes) "
            "VALUES (:case_id, :subject, :messages, :notes) RETURNING id"),
            {'case_id': case_id, **fields}).scalar_one()
        if sqlite:
            connection.execute(sa.text(
                "INSERT INTO case_fts (rowid, subject, messages, notes) "
                "VALUES (:id, :subject, :messages, :notes)"),
                {'id': document_id, **{k: stemmed(v) for k, v in fields.items()}})


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        op.execute("DROP TABLE case_fts")
    op.drop_table('case_documents')
