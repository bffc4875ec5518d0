"""The SLA ledger is append-only (the ORM, bulk statements, PostgreSQL itself), a case deletion
cannot take it along, and `citizencenter sla verify` recomputes every timer from it."""

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.cli import cli
from citizencenter.db import AppendOnlyViolation, is_postgresql
from citizencenter.sla import service as sla_service
from citizencenter.sla.models import SlaLedgerEntry, SlaTimer
from tests.factories import bearer, create_case
from tests.sla.helpers import local


def _verify(app):
    return CliRunner().invoke(cli, ["sla", "verify"], obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


@pytest.fixture
def case(session) -> Case:
    case = cases_service.add_case(session, SYSTEM, channel=Channel.EMAIL, subject="Bygglov",
                                  description="Fråga", received_at=local(2026, 3, 2, 9))
    session.commit()
    return case


def _entry(session, case: Case) -> SlaLedgerEntry:
    return session.scalars(select(SlaLedgerEntry).where(SlaLedgerEntry.case_id == case.id)
                           .order_by(SlaLedgerEntry.id)).first()


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(session, case):
    entry = _entry(session, case)
    entry.details = {"forged": True}
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(_entry(session, case))
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    assert _entry(session, case).details.get("forged") is None


@pytest.mark.parametrize("statement", [
    update(SlaLedgerEntry).values(event="fulfilled"),
    delete(SlaLedgerEntry),
    delete(SlaLedgerEntry.__table__),
], ids=["bulk update", "bulk delete", "table delete"])
def test_bulk_statements_are_refused(session, case, statement):
    with pytest.raises(AppendOnlyViolation):
        session.execute(statement.where(SlaLedgerEntry.__table__.c.case_id == case.id))
    assert _entry(session, case).event == "started"


def test_the_database_refuses_plain_sql_on_postgresql(session, case):
    entry = _entry(session, case)
    if not is_postgresql(session):
        # SQLite keeps no trigger: there the application's guard is the protection.
        assert session.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = "
                                   "'trigger' AND tbl_name = 'sla_ledger'")) == 0
        return
    for sql in ("UPDATE sla_ledger SET details = '{}' WHERE id = :id",
                "DELETE FROM sla_ledger WHERE id = :id"):
        with pytest.raises(DBAPIError, match="cannot be changed or deleted"), \
                session.begin_nested():
            session.execute(text(sql), {"id": entry.id})
    session.expire_all()
    assert session.get(SlaLedgerEntry, entry.id) is not None


def test_deleting_a_case_does_not_drop_its_ledger(session, case):
    entries = session.scalar(select(SlaLedgerEntry.id).where(SlaLedgerEntry.case_id == case.id)
                             .limit(1))
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(delete(Case).where(Case.id == case.id))
    session.expire_all()
    assert session.get(Case, case.id) is not None
    assert session.get(SlaLedgerEntry, entries) is not None


def test_verify_agrees_with_untouched_timers_and_reports_a_tampered_one(app, session, client,
                                                                        tokens, case):
    # Pause, resume, a reply, a forward and a breach: every kind of ledger entry.
    for status, at in ((CaseStatus.WAITING_ON_CITIZEN, local(2026, 3, 3, 10)),
                       (CaseStatus.OPEN, local(2026, 3, 4, 11))):
        previous, case.status = case.status, status
        sla_service.on_case_event(session, case, "status_changed", previous=previous, at=at)
    session.commit()
    other = create_case(client, tokens["guide"], channel="email")
    client.post(f"/api/v1/cases/{other['id']}/messages", headers=bearer(tokens["guide"]),
                json={"direction": "outbound", "body": "Hej!"})
    forwarded = client.post(f"/api/v1/cases/{other['id']}/forward",
                            headers=bearer(tokens["guide"]),
                            json={"department": "stadsbyggnad", "note": "Till er."})
    assert forwarded.status_code == 201, forwarded.get_json()
    sla_service.scan_deadlines(session, now=local(2026, 3, 3, 5))  # 24 h reply: a warning
    sla_service.scan_deadlines(session, now=local(2026, 3, 5, 12))
    events = set(session.scalars(select(SlaLedgerEntry.event)))
    assert {"started", "paused", "resumed", "fulfilled", "warned", "breached"} <= events

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "every timer agrees with its ledger" in result.output

    timer = session.scalar(select(SlaTimer).where(SlaTimer.case_id == case.id,
                                                  SlaTimer.policy.has(slug="avslut")))
    timer.due_at += timedelta(days=3)  # a timer changed outside the clocks
    session.commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"timer {timer.id} (case {case.id}): due_at is" in result.output
    assert "1 timer(s) differ from their ledger" in result.output
