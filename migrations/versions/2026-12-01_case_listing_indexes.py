"""Indexes for the case list: a queue's cases by status, newest first, and subject search

Revision ID: e5a2c7d10041
Revises: c3e8f0a50023
Create Date: 2026-12-01 12:00:00
"""

from alembic import op

revision = 'e5a2c7d10041'
down_revision = 'c3e8f0a50023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A queue's open cases, newest first, walked in index order (backwards) so a page
    # stops after 50 rows instead of sorting every open case of the queue.
    op.create_index('ix_cases_queue_status_received', 'cases',
                    ['queue_id', 'status', 'received_at', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        # `q` is ILIKE '%…%', which no btree serves. pg_trgm is a trusted extension
        # (PostgreSQL 13+): the database's owner may create it without being superuser.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    # On SQLite the PostgreSQL options fall away and this is a plain index on subject.
    op.create_index('ix_cases_subject_trgm', 'cases', ['subject'],
                    postgresql_using='gin', postgresql_ops={'subject': 'gin_trgm_ops'})


def downgrade() -> None:
    # The extension stays: other database objects may have come to use it since.
    op.drop_index('ix_cases_subject_trgm', table_name='cases')
    op.drop_index('ix_cases_queue_status_received', table_name='cases')
