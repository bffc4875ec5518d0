"""Protected identity: a contact's protection (kind, who, when) and the users granted it

Revision ID: e3b9f1c20111
Revises: f2c9a4e60111
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e3b9f1c20111'
down_revision = 'f2c9a4e60111'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protection', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('protected_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('protected_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_contacts_protection', ['protection'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protected_access', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('protected_access')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_protection')
        batch_op.drop_column('protected_at')
        batch_op.drop_column('protected_by')
        batch_op.drop_column('protection')
