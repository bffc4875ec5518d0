"""A forwarding's department_due_at is the department-resolution SLA clock's due time, or none

Revision ID: c3e8f0a50023
Revises: c3e8f0a50022
Create Date: 2026-11-29 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3e8f0a50023'
down_revision = 'c3e8f0a50022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_forwardings', schema=None) as batch_op:
        batch_op.alter_column('department_due_at', existing_type=sa.DateTime(timezone=True),
                              nullable=True)


def downgrade() -> None:
    # A forwarding made without a department policy had no due time: its forwarding time.
    op.execute("UPDATE case_forwardings SET department_due_at = forwarded_at "
               "WHERE department_due_at IS NULL")
    with op.batch_alter_table('case_forwardings', schema=None) as batch_op:
        batch_op.alter_column('department_due_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
