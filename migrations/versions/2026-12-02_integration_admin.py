"""Integrations for the administration page: the old secret's grace period, signature
failures, the last event; department webhook test events

Revision ID: e4a2c6b80711
Revises: a3f5c2e10401
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e4a2c6b80711'
down_revision = 'a3f5c2e10401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('integrations') as batch:
        batch.add_column(sa.Column('previous_secret_valid_until', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('signature_failures', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('last_signature_failure_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('last_signature_failure', sa.String(length=64),
                                   nullable=True))
        batch.add_column(sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.add_column(sa.Column('event_type', sa.String(length=64), nullable=True))
    op.create_table(
        'department_webhook_tests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.String(length=100), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_department_webhook_tests_department_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_department_webhook_tests')),
    )
    op.create_index(op.f('ix_department_webhook_tests_department_id'),
                    'department_webhook_tests', ['department_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_department_webhook_tests_department_id'),
                  table_name='department_webhook_tests')
    op.drop_table('department_webhook_tests')
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.drop_column('event_type')
    with op.batch_alter_table('integrations') as batch:
        batch.drop_column('last_event_at')
        batch.drop_column('last_signature_failure')
        batch.drop_column('last_signature_failure_at')
        batch.drop_column('signature_failures')
        batch.drop_column('previous_secret_valid_until')
