"""When the owning department was last reminded of an article's review

Revision ID: e4b8d1f20181
Revises: d2a7c5e91171
Create Date: 2026-12-02 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e4b8d1f20181'
down_revision = 'd2a7c5e91171'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_reminded_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.drop_column('review_reminded_at')
