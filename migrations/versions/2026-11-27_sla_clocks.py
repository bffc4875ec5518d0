"""SLA policies, clocks and feedback

Revision ID: a1c4e0a10004
Revises: a1c4e0a10003
Create Date: 2026-11-27 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a1c4e0a10004'
down_revision = 'a1c4e0a10003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_sla_calendars_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendars')),
    sa.UniqueConstraint('slug', name=op.f('uq_sla_calendars_slug'))
    )
    op.create_table('sla_calendar_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('swedish_holidays', sa.Boolean(), nullable=False),
    sa.Column('weekly_hours', sa.JSON(), nullable=False),
    sa.Column('closed_dates', sa.JSON(), nullable=False),
    sa.Column('shortened_days', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_calendar_versions_calendar_id_sla_calendars')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendar_versions')),
    sa.UniqueConstraint('calendar_id', 'version', name=op.f('uq_sla_calendar_versions_calendar_id'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('metric', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('target_value', sa.Integer(), nullable=False),
    sa.Column('target_unit', sa.String(length=16), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('pause_statuses', sa.JSON(), nullable=False),
    sa.Column('warn_at_percent', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_policies_calendar_id_sla_calendars')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_sla_policies_category_id_categories')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_sla_policies_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('slug', name=op.f('uq_sla_policies_slug'))
    )
    op.create_table('sla_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=24), nullable=False),
    sa.Column('calendar_version_id', sa.Integer(), nullable=True),
    sa.Column('target_value', sa.Integer(), nullable=False),
    sa.Column('target_unit', sa.String(length=16), nullable=False),
    sa.Column('target_s', sa.Integer(), nullable=False),
    sa.Column('warn_at_percent', sa.Integer(), nullable=False),
    sa.Column('pause_statuses', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paused_s', sa.Integer(), nullable=False),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_version_id'], ['sla_calendar_versions.id'], name=op.f('fk_sla_timers_calendar_version_id_sla_calendar_versions')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sla_timers_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policies.id'], name=op.f('fk_sla_timers_policy_id_sla_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_timers'))
    )
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_timers_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_sla_timers_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('sla_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sla_ledger_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['timer_id'], ['sla_timers.id'], name=op.f('fk_sla_ledger_timer_id_sla_timers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_ledger'))
    )
    with op.batch_alter_table('sla_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_sla_ledger_case_id_id', ['case_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_ledger_timer_id'), ['timer_id'], unique=False)

    op.create_table('sla_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sla_notifications_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['timer_id'], ['sla_timers.id'], name=op.f('fk_sla_notifications_timer_id_sla_timers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_notifications')),
    sa.UniqueConstraint('timer_id', 'kind', name=op.f('uq_sla_notifications_timer_id'))
    )
    with op.batch_alter_table('sla_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_notifications_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sla_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_notifications_case_id'))

    op.drop_table('sla_notifications')
    with op.batch_alter_table('sla_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_ledger_timer_id'))
        batch_op.drop_index('ix_sla_ledger_case_id_id')

    op.drop_table('sla_ledger')
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_timers_status_due_at')
        batch_op.drop_index(batch_op.f('ix_sla_timers_case_id'))

    op.drop_table('sla_timers')
    op.drop_table('sla_policies')
    op.drop_table('sla_calendar_versions')
    op.drop_table('sla_calendars')
