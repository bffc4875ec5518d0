"""When each API token was last used, apart from the tokens (reference data)

Revision ID: d2a7c5e91171
Revises: c9f4a1e60161
Create Date: 2026-12-02 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'd2a7c5e91171'
down_revision = 'c9f4a1e60161'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_token_uses',
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'],
                                name=op.f('fk_api_token_uses_token_id_api_tokens'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_api_token_uses')))


def downgrade() -> None:
    op.drop_table('api_token_uses')
