"""Audit entries cannot be changed or deleted: not through the ORM, not in bulk, and on
PostgreSQL not even by plain SQL."""

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from citizencenter.audit import service as audit
from citizencenter.audit.models import AuditEntry
from citizencenter.db import AppendOnlyViolation, is_postgresql


@pytest.fixture
def entry(session) -> AuditEntry:
    audit.record(session, "system", "test.kept", "test", 1, note="original")
    session.commit()
    return session.query(AuditEntry).filter_by(action="test.kept").one()


def test_an_entry_cannot_be_changed_through_the_orm(session, entry):
    entry.action = "test.forged"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.expire_all()
    assert session.get(AuditEntry, entry.id).action == "test.kept"


def test_an_entry_cannot_be_deleted_through_the_orm(session, entry):
    session.delete(entry)
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    assert session.get(AuditEntry, entry.id) is not None


@pytest.mark.parametrize("statement", [
    update(AuditEntry).values(actor="user:0"),
    delete(AuditEntry),
    delete(AuditEntry.__table__),
], ids=["bulk update", "bulk delete", "table delete"])
def test_bulk_statements_are_refused(session, entry, statement):
    with pytest.raises(AppendOnlyViolation):
        session.execute(statement.where(AuditEntry.__table__.c.id == entry.id))
    assert session.get(AuditEntry, entry.id).actor == "system"


def test_the_database_refuses_plain_sql_on_postgresql(session, entry):
    if not is_postgresql(session):
        # SQLite keeps no trigger: there the application's guard above is the protection.
        assert session.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = "
                                   "'trigger' AND tbl_name = 'audit_entries'")) == 0
        return
    for sql in ("UPDATE audit_entries SET data = '{}' WHERE id = :id",
                "DELETE FROM audit_entries WHERE id = :id"):
        with pytest.raises(DBAPIError, match="cannot be changed or deleted"), \
                session.begin_nested():
            session.execute(text(sql), {"id": entry.id})
    session.expire_all()
    assert session.get(AuditEntry, entry.id).data == {"note": "original"}
