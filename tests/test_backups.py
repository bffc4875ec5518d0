"""`citizencenter backup` / `restore` and `db upgrade` from the first migration.

Each test works on a database of its own (a SQLite file, or a new PostgreSQL database
beside the session's), since a restore replaces every table.
"""

import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from citizencenter import backups, create_app, db, outbox
from citizencenter.cli import _alembic_config, upgrade_database
from citizencenter.db import Base, load_all, make_engine
from tests.conftest import ROOT, TEST_SECRET_KEY
from tests.factories import bearer, case_payload

FIRST = "515b293e9a31"  # initial schema: contacts, cases, messages, audit entries
WITH_CALLS_AND_MAIL = "a1c4e0a10001"  # the e-mail migration, after calls and integrations
COMPARED = ("contacts", "cases", "messages", "audit_entries")


@pytest.fixture
def own_app(own_database, app, redis_server):
    """An app on the test's own database, with demo data; the session's app bound again after."""
    from citizencenter import demo
    from citizencenter.accounts import service as accounts

    upgrade_database(own_database)
    own = create_app({"DATABASE_URL": own_database, "REDIS_URL": redis_server.url,
                      "SECRET_KEY": TEST_SECRET_KEY, "TESTING": True})
    with own.app_context():
        demo.seed(db.session)
        own.config["ADMIN_TOKEN"] = accounts.create_token(db.session, "backup test",
                                                          role="admin")[1]
        db.session.remove()
    try:
        yield own
    finally:
        db.session.remove()
        own.extensions["engine"].dispose()
        db.session.configure(bind=app.extensions["engine"])
        outbox.set_publisher(outbox.Publisher(app.config["REDIS_URL"]))


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY,
           "PUBLIC_BASE_URL": "https://mc.example.se"}
    return subprocess.run([str(Path(sys.executable).parent / "citizencenter"), *args], env=env,
                          cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("citizencenter: ") and text in result.stderr


def _snapshot(engine) -> dict[str, list[tuple]]:
    load_all()
    with engine.connect() as conn:
        return {name: [tuple(row) for row in conn.execute(
            sa.select(Base.metadata.tables[name]).order_by(
                *Base.metadata.tables[name].primary_key.columns))]
            for name in COMPARED}


def test_restore_brings_back_exactly_what_the_backup_held(own_app, tmp_path):
    url, engine = own_app.config["DATABASE_URL"], own_app.extensions["engine"]
    client, auth = own_app.test_client(), bearer(own_app.config["ADMIN_TOKEN"])
    first = client.post("/api/v1/cases", headers=auth, json=case_payload()).get_json()
    second = client.post("/api/v1/cases", headers=auth, json=case_payload(channel="phone"))
    assert second.status_code == 201
    assert client.post(f"/api/v1/cases/{first['id']}/messages", headers=auth, json={
        "direction": "internal", "body": "Ring tillbaka efter 13"}).status_code == 201
    before = _snapshot(engine)
    assert all(before.values())

    dump = tmp_path / "backup.file"
    assert _ok(_cli("backup", "--out", str(dump), database_url=url)).startswith("wrote ")
    assert dump.stat().st_mode & 0o777 == 0o600

    # After the backup: a new case, a change, a message, and a deleted message.
    assert client.post("/api/v1/cases", headers=auth, json=case_payload()).status_code == 201
    assert client.patch(f"/api/v1/cases/{first['id']}", json={"priority": "high"},
                        headers={**auth, "If-Match": '"1"'}).status_code == 200
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM messages WHERE id = (SELECT MIN(id) FROM messages)"))
    assert _snapshot(engine) != before

    if url.startswith("sqlite"):
        # The app's pooled connections have the file open: refused, unless forced; the
        # backup API writes the pages under them, and they read the restored state.
        _refused(_cli("restore", str(dump), database_url=url), "is in use")
        _ok(_cli("restore", str(dump), "--force", database_url=url))
        assert _snapshot(engine) == before
        engine.dispose()
    else:
        _refused(_cli("restore", str(dump), database_url=url), "--yes")
        engine.dispose()
    _ok(_cli("restore", str(dump), "--yes", database_url=url))
    assert _snapshot(engine) == before
    assert client.get(f"/api/v1/cases/{first['id']}", headers=auth).get_json()[
        "priority"] == first["priority"]


def test_restore_refuses_what_is_not_a_backup(own_database, tmp_path):
    upgrade_database(own_database)
    junk = tmp_path / "junk.file"
    junk.write_bytes(b"not a backup\n" * 100)
    _refused(_cli("restore", str(junk), "--yes", database_url=own_database), str(junk))
    _refused(_cli("restore", str(tmp_path / "missing"), "--yes", database_url=own_database),
             "no backup file")


def test_a_backup_from_a_newer_release_is_refused_and_changes_nothing(own_database, tmp_path):
    upgrade_database(own_database)
    engine = make_engine(own_database)
    try:
        with engine.begin() as conn:
            current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'"))
        newer = tmp_path / "newer.file"
        _ok(_cli("backup", "--out", str(newer), database_url=own_database))
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": current})
            conn.execute(sa.text("INSERT INTO departments (slug, name) "
                                 "VALUES ('after-backup', 'Efter säkerhetskopian')"))
        engine.dispose()
        _refused(_cli("restore", str(newer), "--yes", "--force", database_url=own_database),
                 "schema revision f0f0f0f0f0f0, which this release does not know")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
                == current
            assert conn.execute(sa.text(
                "SELECT count(*) FROM departments WHERE slug = 'after-backup'")).scalar() == 1
        # A backup at this release's own revision restores.
        same = tmp_path / "same.file"
        _ok(_cli("backup", "--out", str(same), database_url=own_database))
        engine.dispose()
        assert _ok(_cli("restore", str(same), "--yes", "--force",
                        database_url=own_database)).startswith("restored ")
    finally:
        engine.dispose()


def test_a_backup_that_cannot_be_written_fails_in_one_line(own_database):
    upgrade_database(own_database)
    _refused(_cli("backup", "--out", "/proc/citizencenter.backup", database_url=own_database),
             "/proc/")


def test_a_sqlite_backup_taken_while_another_thread_writes_is_one_snapshot(tmp_path):
    path = tmp_path / "busy.db"
    upgrade_database(f"sqlite:///{path}")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE probe (batch INTEGER NOT NULL, row INTEGER NOT NULL)")
    stop, batches = threading.Event(), []

    def write():
        n = 0
        while not stop.is_set():
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany("INSERT INTO probe VALUES (?, ?)", [(n, r) for r in range(200)])
            writer.execute("COMMIT")
            batches.append(n)
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        counts = []
        for k in range(4):
            out = tmp_path / f"copy{k}.db"
            while len(batches) < 5 * (k + 1):  # writes go on between and during backups
                stop.wait(0.01)
            backups.backup(f"sqlite:///{path}", out)
            with sqlite3.connect(out) as copy:
                rows = copy.execute("SELECT batch, COUNT(*) FROM probe GROUP BY batch").fetchall()
                assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            # Every batch whole, none missing below the newest: a committed state.
            assert [count for _, count in rows] == [200] * len(rows)
            assert [batch for batch, _ in rows] == list(range(len(rows)))
            counts.append(len(rows))
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert counts == sorted(counts) and counts[-1] >= 20


# Rows of the first schema and of the first calls and e-mail tables, as stored then.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE_ID = uuid.UUID("7b0f4a52-0d7e-4a43-9a43-000000000001")
OLD_ROWS = {
    FIRST: {
        "contacts": {"id": 101, "name": "Karin Ek", "email": "karin@example.se",
                     "phone": "+46701234567", "created_at": T0},
        "cases": {"id": CASE_ID, "reference": "MC-2026-000042", "channel": "email",
                  "status": "new", "priority": "high", "subject": "Bygglov för plank",
                  "contact_id": 101, "received_at": T0, "updated_at": T0 + timedelta(hours=1),
                  "first_response_at": T0 + timedelta(minutes=30),
                  "resolved_at_first_contact": False, "version": 3},
        "messages": {"id": 201, "case_id": CASE_ID, "direction": "inbound", "channel": "email",
                     "body": "Behöver jag bygglov för ett plank på 1,8 meter?",
                     "channel_metadata": {"from": "karin@example.se"}, "created_at": T0},
        "audit_entries": {"id": 301, "occurred_at": T0, "actor": "cli",
                          "action": "case.created", "entity_type": "case",
                          "entity_id": str(CASE_ID), "data": {"channel": "email"}},
    },
    WITH_CALLS_AND_MAIL: {
        "calls": {"id": 401, "source": "asterisk", "call_id": "1772442000.17",
                  "queue": "vaxel", "caller": "+46701234567", "outcome": "answered",
                  "entered_at": T0, "answered_at": T0 + timedelta(seconds=42), "wait_s": 42.0,
                  "talk_s": 180.5, "transferred": False, "ring_no_answer_count": 1,
                  "callback_requested": False, "local_date": date(2026, 3, 2),
                  "local_hour": 10, "case_id": CASE_ID, "updated_at": T0},
        "email_messages": {"id": 501, "kind": "inbound", "dedupe_key": "<q1@example.se>",
                           "case_id": CASE_ID, "conversation_message_id": 201,
                           "message_id": "<q1@example.se>", "reference_ids": [],
                           "subject": "Bygglov för plank", "from_address": "karin@example.se",
                           "to_address": "kontaktcenter@lund.example", "mailbox": "inbox",
                           "created_at": T0, "attempts": 0},
    },
}
TYPES = {datetime: sa.DateTime(timezone=True), uuid.UUID: sa.Uuid(), dict: sa.JSON(),
         list: sa.JSON(), bool: sa.Boolean(), int: sa.Integer(), float: sa.Float(),
         str: sa.String(), date: sa.Date()}


def _table(name: str, row: dict) -> sa.TableClause:
    return sa.table(name, *(sa.column(key, TYPES[type(value)]) for key, value in row.items()))


def _utc(value):
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and not value.tzinfo \
        else value


def test_db_upgrade_from_the_first_migration_keeps_every_row(own_database):
    engine = make_engine(own_database)
    try:
        for revision, tables in OLD_ROWS.items():
            command.upgrade(_alembic_config(own_database), revision)
            with engine.begin() as conn:
                for name, row in tables.items():
                    conn.execute(_table(name, row).insert().values(**row))
        engine.dispose()

        assert "newest schema" in _ok(_cli("db", "upgrade", database_url=own_database))

        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == \
                _alembic_heads()
            for tables in OLD_ROWS.values():
                for name, row in tables.items():
                    table = _table(name, row)
                    stored = conn.execute(sa.select(table)).mappings().all()
                    assert [{k: _utc(v) for k, v in r.items()} for r in stored] == [row], name
    finally:
        engine.dispose()


def _alembic_heads() -> str:
    from alembic.script import ScriptDirectory

    (head,) = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return head


def test_backup_names_and_the_sqlite_in_use_probe(tmp_path):
    assert backups.default_name("sqlite:///x.db", datetime(2026, 12, 2, 10, 15, tzinfo=UTC)) \
        == "citizencenter-20261202T101500Z.sqlite3"
    assert backups.default_name("postgresql+psycopg://u@h/d").endswith(".dump")
    assert not backups.sqlite_in_use(Path(tmp_path / "nothing.db"))


def test_pg_dump_gets_the_password_in_its_environment_only(tmp_path, monkeypatch):
    # A pg_dump on PATH that records what it was given, then fails as a refused login does.
    seen = tmp_path / "seen"
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" > {seen}\necho "password=$PGPASSWORD user=$PGUSER '
                    f'host=$PGHOST port=$PGPORT" >> {seen}\n'
                    'echo "pg_dump: error: connection failed" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    with pytest.raises(backups.BackupError) as refused:
        backups.backup("postgresql+psycopg://cc:s3cret-pw@db.internal:5433/cc", tmp_path / "d")
    assert str(refused.value) == "pg_dump failed: pg_dump: error: connection failed"
    argv, env = seen.read_text().splitlines()
    assert "s3cret" not in argv and argv.startswith("--format=custom") and argv.endswith(" cc")
    assert env == "password=s3cret-pw user=cc host=db.internal port=5433"
    assert not (tmp_path / ".d.partial").exists() and not (tmp_path / "d").exists()
