"""Users sign in to the pages with a password: its argon2id hash

Revision ID: f7b3d9e20051
Revises: e5a2c7d10041
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f7b3d9e20051'
down_revision = 'e5a2c7d10041'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No password until one is set (set-password): such a user cannot sign in to the pages.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('password_hash')
