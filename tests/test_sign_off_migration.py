"""The migration that signs off the profiles of users who can no longer take work."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from citizencenter.cli import _alembic_config
from citizencenter.db import make_engine
from tests.test_phone_number_migration import _migrate

REVISION = "b6e2c9d40151"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String),
                 sa.column("name", sa.String), sa.column("role", sa.String),
                 sa.column("active", sa.Boolean),
                 sa.column("created_at", sa.DateTime(timezone=True)))
profiles = sa.table("guide_profiles", sa.column("user_id", sa.Integer),
                    sa.column("presence", sa.String), sa.column("presence_source", sa.String),
                    *(sa.column(c, sa.DateTime(timezone=True)) for c in (
                        "presence_changed_at", "idle_since", "updated_at")),
                    *(sa.column(c, sa.JSON) for c in ("skills", "capacities", "queue_ids")))
audit = sa.table("audit_entries", sa.column("action", sa.String),
                 sa.column("entity_id", sa.String), sa.column("data", sa.JSON))


def _seed(conn) -> dict[str, int]:
    people = {"left": ("guide", False, "available"), "moved": ("department", True, "busy"),
              "working": ("guide", True, "available"), "home": ("admin", True, "offline")}
    ids = {}
    for key, (role, active, presence) in people.items():
        ids[key] = conn.execute(users.insert().values(
            email=f"{key}@lund.example", name=key, role=role, active=active, created_at=T0)
            .returning(users.c.id)).scalar_one()
        conn.execute(profiles.insert().values(
            user_id=ids[key], presence=presence, presence_source="manual",
            presence_changed_at=T0, idle_since=T0, updated_at=T0, skills=[], capacities={},
            queue_ids=[]))
    conn.commit()
    return ids


def test_unroutable_users_are_signed_off_with_their_presence_change(own_database):
    before = ScriptDirectory.from_config(_alembic_config()).get_revision(REVISION).down_revision
    engine = make_engine(own_database)
    with engine.connect() as conn:
        _migrate(conn, before)
        ids = _seed(conn)
        _migrate(conn, REVISION)
        presence = dict(conn.execute(sa.select(profiles.c.user_id, profiles.c.presence)).all())
        assert presence == {ids["left"]: "offline", ids["moved"]: "offline",
                            ids["working"]: "available", ids["home"]: "offline"}
        changes = {int(entity): data for entity, data in conn.execute(
            sa.select(audit.c.entity_id, audit.c.data)
            .where(audit.c.action == "guide.presence_changed")).all()}
        assert changes == {ids["left"]: {"from": "available", "to": "offline"},
                           ids["moved"]: {"from": "busy", "to": "offline"}}
    engine.dispose()
