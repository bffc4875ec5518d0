"""The migration that writes stored numbers in E.164 again and merges split contacts.

Run on a fresh SQLite file and on a fresh schema of the session's database (PostgreSQL
unless TEST_DATABASE_URL=sqlite), brought to the revision before it by the migrations.
"""

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from citizencenter.cli import _alembic_config
from citizencenter.db import make_engine

REVISION = "d4f1a2b60031"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("email", sa.String), sa.column("phone", sa.String),
                    sa.column("created_at", sa.DateTime(timezone=True)))
identities = sa.table("contact_identities", sa.column("contact_id", sa.Integer),
                      sa.column("kind", sa.String), sa.column("value", sa.String))
conversations = sa.table(
    "social_conversations", *(sa.column(c, sa.String) for c in ("platform", "page_id",
                                                                 "citizen_id")),
    sa.column("contact_id", sa.Integer), sa.column("created_at", sa.DateTime(timezone=True)))
cases = sa.table(
    "cases", sa.column("id", sa.Uuid),
    *(sa.column(c, sa.String) for c in ("reference", "channel", "status", "priority",
                                        "subject")),
    *(sa.column(c, sa.DateTime(timezone=True)) for c in ("received_at", "updated_at")),
    sa.column("resolved_at_first_contact", sa.Boolean), sa.column("version", sa.Integer),
    sa.column("contact_id", sa.Integer))
calls = sa.table(
    "calls", *(sa.column(c, sa.String) for c in ("source", "call_id", "outcome", "caller")),
    *(sa.column(c, sa.Boolean) for c in ("transferred", "callback_requested")),
    sa.column("ring_no_answer_count", sa.Integer),
    sa.column("updated_at", sa.DateTime(timezone=True)))
call_events = sa.table(
    "call_events", *(sa.column(c, sa.String) for c in ("source", "event_id", "type",
                                                        "call_id", "caller")),
    *(sa.column(c, sa.DateTime(timezone=True)) for c in ("occurred_at", "received_at")),
    sa.column("sequence", sa.Integer), sa.column("metrics", sa.JSON))


@contextlib.contextmanager
def _sqlite_file(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'phones.db'}")
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@contextlib.contextmanager
def _fresh_schema(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        with _sqlite_file(tmp_path) as conn:
            yield conn
        return
    engine = make_engine(database_url)
    schema = f"phones_{uuid.uuid4().hex[:8]}"
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"SET search_path TO {schema}"))
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            conn.commit()
    engine.dispose()


def _config_on(conn):
    config = _alembic_config()
    config.attributes["connection"] = conn
    return config


def _migrate(conn, revision: str) -> None:
    command.upgrade(_config_on(conn), revision)
    conn.commit()


def _case(contact_id: int, n: int) -> dict:
    return {"id": uuid.uuid4(), "reference": f"MC-2026-{n:06d}", "channel": "phone",
            "status": "new", "priority": "normal", "subject": "Samtal", "received_at": T0,
            "updated_at": T0, "resolved_at_first_contact": False, "version": 1,
            "contact_id": contact_id}


def _seed(conn) -> dict:
    """Contacts split by the old normaliser, and rows that point at them."""
    people = [  # oldest first
        ("ali", "Ali Rahimi", None, "+46046355000"),  # "+46 (0)46 35 50 00"
        ("ali_again", None, "ali@example.se", "+4646355000"),  # "046-35 50 00"
        ("bo", "Bo Ek", "bo@example.se", "+4646355000"),  # shares the landline
        ("karin", None, None, "+46701234567"),
        ("karin_again", None, None, "+460701234567"),  # "+46 (0)70 123 45 67"
        ("odd", None, None, "+4612"),  # not a number: left as stored
    ]
    ids = {}
    for minutes, (key, name, email, phone) in enumerate(people):
        ids[key] = conn.execute(contacts.insert().values(
            name=name, email=email, phone=phone, created_at=T0 + timedelta(minutes=minutes))
            .returning(contacts.c.id)).scalar_one()
    case_ids = {}
    for n, key in enumerate(("ali", "ali_again", "bo", "karin_again"), start=1):
        row = _case(ids[key], n)
        conn.execute(cases.insert().values(**row))
        case_ids[key] = row["id"]
    conn.execute(identities.insert().values(contact_id=ids["ali_again"], kind="messenger",
                                            value="psid-1"))
    conn.execute(conversations.insert().values(
        platform="messenger", page_id="page-1", citizen_id="psid-1",
        contact_id=ids["ali_again"], created_at=T0))
    conn.execute(calls.insert().values(
        source="asterisk", call_id="c-1", outcome="answered", caller="+46046355000",
        transferred=False, callback_requested=False, ring_no_answer_count=0, updated_at=T0))
    conn.execute(call_events.insert().values(
        source="asterisk", event_id="e-1", type="call.answered", call_id="c-1",
        caller="+46046355000", occurred_at=T0, received_at=T0, sequence=1, metrics={}))
    conn.commit()
    return {"contacts": ids, "cases": case_ids}


def _check(conn, seeded) -> None:
    ids = seeded["contacts"]
    left = {row.id: row for row in conn.execute(sa.select(contacts))}
    assert set(left) == {ids["ali"], ids["bo"], ids["karin"], ids["odd"]}
    ali = left[ids["ali"]]
    assert (ali.name, ali.email, ali.phone) == ("Ali Rahimi", "ali@example.se", "+4646355000")
    bo = left[ids["bo"]]
    assert (bo.name, bo.email, bo.phone) == ("Bo Ek", "bo@example.se", "+4646355000")
    assert left[ids["karin"]].phone == "+46701234567"
    assert left[ids["odd"]].phone == "+4612"
    owners = dict(conn.execute(sa.select(cases.c.id, cases.c.contact_id)).all())
    assert {key: owners[case_id] for key, case_id in seeded["cases"].items()} == {
        "ali": ids["ali"], "ali_again": ids["ali"], "bo": ids["bo"],
        "karin_again": ids["karin"]}
    assert conn.execute(sa.select(identities.c.contact_id)).scalar_one() == ids["ali"]
    assert conn.execute(sa.select(conversations.c.contact_id)).scalar_one() == ids["ali"]
    assert conn.execute(sa.select(calls.c.caller)).scalar_one() == "+4646355000"
    assert conn.execute(sa.select(call_events.c.caller)).scalar_one() == "+4646355000"


def _before() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_revision(REVISION).down_revision


@pytest.mark.parametrize("where", ["sqlite file", "session database"])
def test_split_contacts_are_merged_and_numbers_rewritten(where, database_url, tmp_path):
    opened = (_sqlite_file(tmp_path) if where == "sqlite file"
              else _fresh_schema(database_url, tmp_path))
    with opened as conn:
        _migrate(conn, _before())
        seeded = _seed(conn)
        _migrate(conn, REVISION)
        _check(conn, seeded)
        # Running over merged data again changes nothing.
        command.downgrade(_config_on(conn), _before())
        conn.commit()
        _migrate(conn, REVISION)
        _check(conn, seeded)

