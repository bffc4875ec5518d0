"""Cases: index what a guide holds by assignee, status and channel

routing/decide counts each free guide's open phone cases, and routing counts every
guide's load. On the assignee alone, both read every case a guide ever held.

On PostgreSQL the index is built and the old one dropped concurrently, outside the
migration's transaction, so intake keeps writing cases meanwhile. A build that fails
leaves an invalid index behind: drop it by hand before running the upgrade again.

Revision ID: a5d2c7e30191
Revises: e4b8d1f20181
Create Date: 2026-12-03 13:00:00
"""

from contextlib import nullcontext

from alembic import op

revision = 'a5d2c7e30191'
down_revision = 'e4b8d1f20181'
branch_labels = None
depends_on = None


def _outside_the_transaction():
    if op.get_bind().dialect.name == 'postgresql':
        return op.get_context().autocommit_block()
    return nullcontext()


def upgrade() -> None:
    with _outside_the_transaction():
        op.create_index('ix_cases_assignee_status_channel', 'cases',
                        ['assignee_id', 'status', 'channel'], postgresql_concurrently=True)
        op.drop_index('ix_cases_assignee_id', table_name='cases',
                      postgresql_concurrently=True)


def downgrade() -> None:
    with _outside_the_transaction():
        op.create_index('ix_cases_assignee_id', 'cases', ['assignee_id'],
                        postgresql_concurrently=True)
        op.drop_index('ix_cases_assignee_status_channel', table_name='cases',
                      postgresql_concurrently=True)
