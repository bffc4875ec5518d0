"""Sign off guides' profiles whose user was deactivated or left the routable roles

Routing offers cases and calls to every available profile; such a user's profile stayed
available. Each one signed off here gets the presence change staffing reads.

Revision ID: b6e2c9d40151
Revises: a3d8e5f20141
Create Date: 2026-12-02 23:40:00
"""

from datetime import datetime, timezone

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
audit = sa.table('audit_entries', sa.column('occurred_at', sa.DateTime(timezone=True)),
                 sa.column('actor', sa.String), sa.column('action', sa.String),
                 sa.column('entity_type', sa.String), sa.column('entity_id', sa.String),
                 sa.column('data', sa.JSON))


def upgrade() -> None:
    connection = op.get_bind()
    unroutable = sa.select(users.c.id).where(
        sa.or_(sa.not_(users.c.active), users.c.role.not_in(('guide', 'supervisor'))))
    signed_in = connection.execute(
        sa.select(profiles.c.user_id, profiles.c.presence)
        .where(profiles.c.user_id.in_(unroutable), profiles.c.presence != 'offline')).all()
    if not signed_in:
        return
    now = datetime.now(timezone.utc)
    connection.execute(profiles.update().where(
        profiles.c.user_id.in_([user_id for user_id, _ in signed_in]))
        .values(presence='offline', presence_changed_at=now, presence_source='account'))
    connection.execute(audit.insert(), [
        {"occurred_at": now, "actor": "system", "action": "guide.presence_changed",
         "entity_type": "user", "entity_id": str(user_id),
         "data": {"from": presence, "to": "offline"}} for user_id, presence in signed_in])


def downgrade() -> None:
    pass  # who was signed in is in the audit trail; nobody is signed back in
