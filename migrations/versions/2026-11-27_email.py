"""e-mail channel

Revision ID: a1c4e0a10001
Revises: 4b6d773ab2f3
Create Date: 2026-11-27 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a1c4e0a10001'
down_revision = '4b6d773ab2f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('email_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=300), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('conversation_message_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('in_reply_to', sa.String(length=300), nullable=True),
    sa.Column('reference_ids', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=998), nullable=False),
    sa.Column('from_address', sa.String(length=254), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=True),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('mailbox', sa.String(length=64), nullable=True),
    sa.Column('threaded_by', sa.String(length=32), nullable=True),
    sa.Column('ack_refusal', sa.String(length=32), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sending_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_email_messages_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_message_id'], ['messages.id'], name=op.f('fk_email_messages_conversation_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_messages')),
    sa.UniqueConstraint('conversation_message_id', name=op.f('uq_email_messages_conversation_message_id')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_email_messages_dedupe_key'))
    )
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_messages_message_id'), ['message_id'], unique=False)

    op.create_table('email_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('declared_type', sa.String(length=255), nullable=False),
    sa.Column('detected_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('inline', sa.Boolean(), nullable=False),
    sa.Column('content_id', sa.String(length=300), nullable=True),
    sa.Column('rejected_reason', sa.String(length=32), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_email_attachments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['email_id'], ['email_messages.id'], name=op.f('fk_email_attachments_email_id_email_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_attachments'))
    )
    with op.batch_alter_table('email_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_attachments_email_id'), ['email_id'], unique=False)

    op.create_table('quarantined_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=64), nullable=True),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uid', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_emails')),
    sa.UniqueConstraint('mailbox', 'uidvalidity', 'uid', name=op.f('uq_quarantined_emails_mailbox'))
    )
    with op.batch_alter_table('quarantined_emails', schema=None) as batch_op:
        batch_op.create_index('ix_quarantined_emails_received_at', ['received_at', 'id'], unique=False)

    op.create_table('mailbox_states',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_mailbox_states'))
    )
    op.create_table('acknowledged_senders',
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_acknowledged_senders'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_case_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cases_linked_case_id_cases'), 'cases', ['linked_case_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_linked_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('linked_case_id')

    op.drop_table('acknowledged_senders')
    op.drop_table('mailbox_states')
    with op.batch_alter_table('quarantined_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantined_emails_received_at')

    op.drop_table('quarantined_emails')
    with op.batch_alter_table('email_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_attachments_email_id'))
        batch_op.drop_index(batch_op.f('ix_email_attachments_case_id'))

    op.drop_table('email_attachments')
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_messages_message_id'))
        batch_op.drop_index(batch_op.f('ix_email_messages_case_id'))

    op.drop_table('email_messages')
