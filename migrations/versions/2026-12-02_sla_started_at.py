"""Cases: when their SLA timers started (the worker starts them after intake)

Revision ID: a8d4c1f30061
Revises: f7b3d9e20051
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'a8d4c1f30061'
down_revision = 'f7b3d9e20051'
branch_labels = None
depends_on = None


def _partial(where: str) -> dict:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_started_at', sa.DateTime(timezone=True),
                                      nullable=True))
    # Every case so far had its timers started in its own intake transaction.
    op.execute('UPDATE cases SET sla_started_at = received_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        # Reconciliation looks for cases whose timers never started.
        batch_op.create_index('ix_cases_sla_unstarted', ['received_at'], unique=False,
                              **_partial('sla_started_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_sla_unstarted')
        batch_op.drop_column('sla_started_at')
