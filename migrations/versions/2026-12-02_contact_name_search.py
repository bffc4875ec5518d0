"""Contacts: a trigram index on the name, for the guides' search by part of a name

Revision ID: b2e7f4a10071
Revises: a9d4c6e30061
Create Date: 2026-12-02 12:00:00
"""

from alembic import op

revision = 'b2e7f4a10071'
down_revision = 'a9d4c6e30061'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Search is ILIKE '%…%' on the name, which no btree serves; pg_trgm came with the
    # case list's subject index. On SQLite this is a plain index on the name.
    op.create_index('ix_contacts_name_trgm', 'contacts', ['name'],
                    postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_contacts_name_trgm', table_name='contacts')
