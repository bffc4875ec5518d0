"""The migration that signs off users who can no longer take work and puts cases stranded
without a guide back in their queues."""

import uuid
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
cases = sa.table(
    "cases", sa.column("id", sa.Uuid),
    *(sa.column(c, sa.String) for c in ("reference", "channel", "status", "priority",
                                        "subject")),
    *(sa.column(c, sa.DateTime(timezone=True)) for c in (
        "received_at", "updated_at", "routed_at", "waiting_since")),
    sa.column("resolved_at_first_contact", sa.Boolean), sa.column("version", sa.Integer),
    *(sa.column(c, sa.Integer) for c in ("assignee_id", "department_id")))
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
    departments = sa.table("departments", sa.column("id", sa.Integer),
                           sa.column("slug", sa.String), sa.column("name", sa.String))
    department = conn.execute(departments.insert().values(slug="bygg", name="Bygg")
                              .returning(departments.c.id)).scalar_one()
    stranded = {  # key: (assignee, status, routed, department)
        "left's open": ("left", "open", True, None), "left's resolved": ("left", "resolved",
                                                                          True, None),
        "working's": ("working", "new", True, None), "taken by hand": (None, "new", True, None),
        "not routed yet": (None, "new", False, None),
        "department's": (None, "open", True, department)}
    for n, (key, (assignee, status, routed, department_id)) in enumerate(stranded.items()):
        ids[key] = uuid.uuid4()
        conn.execute(cases.insert().values(
            id=ids[key], reference=f"MC-2026-{n + 1:06d}", channel="email", status=status,
            priority="normal", subject="Fråga", received_at=T0, updated_at=T0,
            routed_at=T0 if routed else None, resolved_at_first_contact=False, version=1,
            assignee_id=ids.get(assignee), department_id=department_id))
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
        waiting = {row.id: row for row in conn.execute(sa.select(cases))}
        again = {key for key in ("left's open", "left's resolved", "working's", "taken by hand",
                                 "not routed yet", "department's")
                 if waiting[ids[key]].waiting_since is not None}
        assert again == {"left's open", "taken by hand"}
        assert waiting[ids["left's open"]].assignee_id is None
        assert waiting[ids["left's open"]].version == 2  # an ETag read before is stale
        assert waiting[ids["left's resolved"]].assignee_id == ids["left"]
        assert waiting[ids["working's"]].assignee_id == ids["working"]
    engine.dispose()
