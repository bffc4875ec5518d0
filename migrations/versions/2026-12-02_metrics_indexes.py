"""Indexes for the gauges /metrics reads at each scrape: today's SLA warnings and breaches,
outgoing mail sent today and mail waiting to be sent

Revision ID: b6e2d8a40211
Revises: e8c3b5f20101
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b6e2d8a40211'
down_revision = 'e8c3b5f20101'
branch_labels = None
depends_on = None

SENT = 'sent_at IS NOT NULL'
UNSENT = "kind <> 'inbound' AND sent_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('sla_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_sla_ledger_event_occurred_at', ['event', 'occurred_at'],
                              unique=False)
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.create_index('ix_email_messages_sent_at', ['sent_at'], unique=False,
                              postgresql_where=sa.text(SENT), sqlite_where=sa.text(SENT))
        batch_op.create_index('ix_email_messages_unsent', ['created_at'], unique=False,
                              postgresql_where=sa.text(UNSENT), sqlite_where=sa.text(UNSENT))


def downgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_email_messages_unsent')
        batch_op.drop_index('ix_email_messages_sent_at')
    with op.batch_alter_table('sla_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_ledger_event_occurred_at')
