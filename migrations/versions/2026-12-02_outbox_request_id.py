"""Outbox rows keep the id of the request that wrote them

The relay sends it as the Celery message's `request_id` header, so the log lines of the
tasks a request started carry its id. Rows written before have none.

Revision ID: a4d1c7e20201
Revises: e8c3b5f20101
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'a4d1c7e20201'
down_revision = 'b6e2d8a40211'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('request_id')
