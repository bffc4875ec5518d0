"""routing engine

Revision ID: a1c4e0a10003
Revises: a1c4e0a10002
Create Date: 2026-11-27 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a1c4e0a10003'
down_revision = 'a1c4e0a10002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rules_position'), ['position'], unique=False)

    op.create_table('routing_rule_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['routing_rules.id'], name=op.f('fk_routing_rule_versions_rule_id_routing_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule_versions')),
    sa.UniqueConstraint('rule_id', 'version', name=op.f('uq_routing_rule_versions_rule_id'))
    )
    op.create_table('guide_profiles',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('presence', sa.String(length=16), nullable=False),
    sa.Column('presence_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('presence_source', sa.String(length=16), nullable=False),
    sa.Column('idle_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_assignment_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('capacities', sa.JSON(), nullable=False),
    sa.Column('queue_ids', sa.JSON(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_guide_profiles_service_point_id_service_points')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_guide_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_guide_profiles'))
    )
    op.create_table('queue_policies',
    sa.Column('queue_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('timeout_s', sa.Integer(), nullable=True),
    sa.Column('overflow_queue_id', sa.Integer(), nullable=True),
    sa.Column('raise_priority', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['overflow_queue_id'], ['queues.id'], name=op.f('fk_queue_policies_overflow_queue_id_queues')),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_policies_queue_id_queues')),
    sa.PrimaryKeyConstraint('queue_id', name=op.f('pk_queue_policies'))
    )
    op.create_table('routing_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('rule_version_id', sa.Integer(), nullable=True),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('chosen_user_id', sa.Integer(), nullable=True),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_routing_decisions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chosen_user_id'], ['users.id'], name=op.f('fk_routing_decisions_chosen_user_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_routing_decisions_department_id_departments')),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_routing_decisions_queue_id_queues')),
    sa.ForeignKeyConstraint(['rule_version_id'], ['routing_rule_versions.id'], name=op.f('fk_routing_decisions_rule_version_id_routing_rule_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_decisions'))
    )
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_routing_decisions_case_id_id', ['case_id', 'id'], unique=False)

    op.create_table('case_forwardings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('from_queue_id', sa.Integer(), nullable=True),
    sa.Column('note_message_id', sa.Integer(), nullable=True),
    sa.Column('forwarded_by', sa.String(length=64), nullable=False),
    sa.Column('forwarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('department_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_by', sa.String(length=64), nullable=True),
    sa.Column('email_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('webhook_delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notify_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_forwardings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_case_forwardings_department_id_departments')),
    sa.ForeignKeyConstraint(['from_queue_id'], ['queues.id'], name=op.f('fk_case_forwardings_from_queue_id_queues')),
    sa.ForeignKeyConstraint(['note_message_id'], ['messages.id'], name=op.f('fk_case_forwardings_note_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_forwardings'))
    )
    with op.batch_alter_table('case_forwardings', schema=None) as batch_op:
        batch_op.create_index('ix_case_forwardings_case_id', ['case_id', 'id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('required_skills', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('routing_rule_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalate_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_waiting_since'), ['waiting_since'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_escalate_at'), ['escalate_at'], unique=False)

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret_encrypted', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret_encrypted')
        batch_op.drop_column('webhook_url')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_escalate_at'))
        batch_op.drop_index(batch_op.f('ix_cases_waiting_since'))
        batch_op.drop_column('escalate_at')
        batch_op.drop_column('waiting_since')
        batch_op.drop_column('routing_rule_version_id')
        batch_op.drop_column('required_skills')
        batch_op.drop_column('language')

    with op.batch_alter_table('case_forwardings', schema=None) as batch_op:
        batch_op.drop_index('ix_case_forwardings_case_id')

    op.drop_table('case_forwardings')
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_decisions_case_id_id')

    op.drop_table('routing_decisions')
    op.drop_table('queue_policies')
    op.drop_table('guide_profiles')
    op.drop_table('routing_rule_versions')
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rules_position'))

    op.drop_table('routing_rules')
