"""social, web form and walk-in channels

Revision ID: a1c4e0a10002
Revises: a1c4e0a10001
Create Date: 2026-11-27 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a1c4e0a10002'
down_revision = 'a1c4e0a10001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('social_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('page_id', sa.String(length=64), nullable=False),
    sa.Column('citizen_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_social_conversations_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_social_conversations_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_conversations')),
    sa.UniqueConstraint('platform', 'page_id', 'citizen_id', name=op.f('uq_social_conversations_platform'))
    )
    op.create_table('social_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mid', sa.String(length=255), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_social_messages_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['social_conversations.id'], name=op.f('fk_social_messages_conversation_id_social_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_social_messages_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_messages')),
    sa.UniqueConstraint('mid', name=op.f('uq_social_messages_mid'))
    )
    with op.batch_alter_table('social_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_messages_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('social_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('parts_sent', sa.Integer(), nullable=False),
    sa.Column('meta_message_ids', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_social_deliveries_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_social_deliveries_message_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_point_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_service_point_id'), ['service_point_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_service_point_id_service_points'), 'service_points', ['service_point_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_service_point_id_service_points'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_service_point_id'))
        batch_op.drop_column('service_point_id')

    op.drop_table('social_deliveries')
    with op.batch_alter_table('social_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_messages_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_social_messages_case_id'))

    op.drop_table('social_messages')
    op.drop_table('social_conversations')
