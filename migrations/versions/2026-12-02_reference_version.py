"""The reference data's version: per-process caches of tokens, queues, categories and SLA
policies are valid while it stays the same

Revision ID: a9d4c6e30061
Revises: a8d4c1f30061
Create Date: 2026-12-02 10:00:00
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = 'a9d4c6e30061'
down_revision = 'a8d4c1f30061'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'reference_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_version')),
    )
    # Random, not 1: two databases never share a version a process could confuse.
    op.bulk_insert(table, [{'id': 1, 'version': uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table('reference_version')
