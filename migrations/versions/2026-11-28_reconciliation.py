"""Reconciliation: indexes for work whose effect is missing, outbound mail given up

Revision ID: a1c4e0a10007
Revises: a1c4e0a10006
Create Date: 2026-11-28 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'a1c4e0a10007'
down_revision = 'a1c4e0a10006'
branch_labels = None
depends_on = None


def _partial(where: str) -> dict:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_unrouted', ['received_at'], unique=False,
                              **_partial('routed_at IS NULL'))
        batch_op.create_index('ix_cases_resolved_at', ['resolved_at'], unique=False,
                              **_partial("status = 'resolved'"))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_outbound_created_at', ['created_at'], unique=False,
                              **_partial("direction = 'outbound'"))
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_without_case', ['updated_at'], unique=False,
                              **_partial('case_id IS NULL AND callback_case_id IS NULL'))
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_published_at', ['published_at'], unique=False)
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_email_messages_failed_at', ['failed_at'], unique=False,
                              **_partial('failed_at IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_email_messages_failed_at')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('attempted_at')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_published_at')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_without_case')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_outbound_created_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_resolved_at')
        batch_op.drop_index('ix_cases_unrouted')
