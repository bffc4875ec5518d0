"""Sign off users who can no longer take work; cases stranded without a guide wait again

Routing offers cases and calls to every available profile; the profile of a user who was
disabled or left the guide and supervisor roles stayed available. Each one signed off
here gets the presence change staffing reads. Their open cases, and routed cases taken
from their guide by hand (which waited for no one), wait in their queues again, their
escalation deadline counted from now.

Revision ID: b6e2c9d40151
Revises: a3d8e5f20141
Create Date: 2026-12-02 23:40:00
"""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = 'b6e2c9d40151'
down_revision = 'a3d8e5f20141'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('role', sa.String),
                 sa.column('active', sa.Boolean))
profiles = sa.table('guide_profiles', sa.column('user_id', sa.Integer),
                    sa.column('presence', sa.String),
                    sa.column('presence_changed_at', sa.DateTime(timezone=True)),
                    sa.column('presence_source', sa.String))
cases = sa.table('cases', sa.column('id', sa.Uuid), sa.column('assignee_id', sa.Integer),
                 sa.column('status', sa.String), sa.column('department_id', sa.Integer),
                 sa.column('queue_id', sa.Integer), sa.column('version', sa.Integer),
                 *(sa.column(c, sa.DateTime(timezone=True))
                   for c in ('routed_at', 'waiting_since', 'escalate_at')))
policies = sa.table('queue_policies', sa.column('queue_id', sa.Integer),
                    sa.column('timeout_s', sa.Integer),
                    sa.column('overflow_queue_id', sa.Integer),
                    sa.column('raise_priority', sa.Boolean))
audit = sa.table('audit_entries', sa.column('occurred_at', sa.DateTime(timezone=True)),
                 sa.column('actor', sa.String), sa.column('action', sa.String),
                 sa.column('entity_type', sa.String), sa.column('entity_id', sa.String),
                 sa.column('data', sa.JSON))


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(timezone.utc)
    unroutable = sa.select(users.c.id).where(
        sa.or_(sa.not_(users.c.active), users.c.role.not_in(('guide', 'supervisor'))))
    signed_in = connection.execute(
        sa.select(profiles.c.user_id, profiles.c.presence)
        .where(profiles.c.user_id.in_(unroutable), profiles.c.presence != 'offline')).all()
    if signed_in:
        connection.execute(profiles.update().where(
            profiles.c.user_id.in_([user_id for user_id, _ in signed_in]))
            .values(presence='offline', presence_changed_at=now, presence_source='account'))
        connection.execute(audit.insert(), [
            {"occurred_at": now, "actor": "system", "action": "guide.presence_changed",
             "entity_type": "user", "entity_id": str(user_id),
             "data": {"from": presence, "to": "offline"}} for user_id, presence in signed_in])
    stranded = connection.execute(sa.select(cases.c.id, cases.c.queue_id).where(
        cases.c.status.in_(('new', 'open')), cases.c.department_id.is_(None),
        cases.c.routed_at.is_not(None), cases.c.waiting_since.is_(None),
        sa.or_(cases.c.assignee_id.is_(None), cases.c.assignee_id.in_(unroutable)))).all()
    by_queue: dict = {}
    for case_id, queue_id in stranded:
        by_queue.setdefault(queue_id, []).append(case_id)
    timeouts = {queue_id: timeout_s for queue_id, timeout_s in connection.execute(
        sa.select(policies.c.queue_id, policies.c.timeout_s).where(
            policies.c.timeout_s > 0,
            sa.or_(policies.c.overflow_queue_id.is_not(None), policies.c.raise_priority)))}
    for queue_id, case_ids in by_queue.items():
        timeout_s = timeouts.get(queue_id)
        connection.execute(cases.update().where(cases.c.id.in_(case_ids)).values(
            assignee_id=None, waiting_since=now, version=cases.c.version + 1,
            escalate_at=now + timedelta(seconds=timeout_s) if timeout_s else None))


def downgrade() -> None:
    pass  # who was signed in is in the audit trail; nobody is signed back in or reassigned
