"""The deadline scan: warnings, breaches, escalation, notifications, and a real beat."""

import time
from datetime import timedelta
from email import message_from_string
from email.policy import default

import pytest
from sqlalchemy import func, select

from citizencenter import db
from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseStatus, Channel, Priority
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from citizencenter.sla import service as sla_service
from citizencenter.sla.enums import LedgerEvent
from citizencenter.sla.models import SlaLedgerEntry, SlaNotification, SlaPolicy, SlaTimer
from tests.sla.helpers import local


def _timer(session, case, slug) -> SlaTimer:
    return session.scalar(select(SlaTimer).join(SlaPolicy).where(
        SlaTimer.case_id == case.id, SlaPolicy.slug == slug))


def _events(session, case) -> list[tuple[int, str]]:
    return [(e.timer_id, e.event.value) for e in session.scalars(
        select(SlaLedgerEntry).where(SlaLedgerEntry.case_id == case.id)
        .order_by(SlaLedgerEntry.id))]


def test_warn_then_breach_and_escalate_once_per_metric(session):
    case = cases_service.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Skanning",
                                   description="Fråga", received_at=local(2026, 3, 2, 9))
    calendar_day = _timer(session, case, "epost-forsta-svar-24h")
    working_day = _timer(session, case, "epost-forsta-svar-1-arbetsdag")
    resolution = _timer(session, case, "avslut")
    # 80 % of 24 h is 19 h 12 min; 80 % of one 9-hour working day is 7 h 12 min.
    assert calendar_day.warn_at == local(2026, 3, 3, 4, 12)
    assert working_day.warn_at == local(2026, 3, 2, 16, 12)

    assert sla_service.scan_deadlines(session, now=local(2026, 3, 3, 8)) == {
        "warned": 2, "breached": 0}
    assert calendar_day.warned_at == local(2026, 3, 3, 8) and resolution.warned_at is None
    assert sla_service.scan_deadlines(session, now=local(2026, 3, 3, 8)) == {
        "warned": 0, "breached": 0}

    assert sla_service.scan_deadlines(session, now=local(2026, 3, 3, 9, 30)) == {
        "warned": 0, "breached": 2}
    assert calendar_day.breached_at == local(2026, 3, 3, 9)
    assert working_day.breached_at == local(2026, 3, 3, 9)
    assert calendar_day.status.value == "running"  # still owed; a late reply fulfils it
    session.expire_all()
    assert session.get(Case, case.id).priority == Priority.HIGH  # one step, not two
    escalations = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case.escalated", AuditEntry.entity_id == str(case.id))).all()
    assert [(e.data["from"], e.data["to"]) for e in escalations] == [("normal", "high")]
    breaches = session.scalars(select(SlaLedgerEntry).where(
        SlaLedgerEntry.case_id == case.id, SlaLedgerEntry.event == LedgerEvent.BREACHED)).all()
    assert sorted(bool(b.details) for b in breaches) == [False, True]
    assert sla_service.scan_deadlines(session, now=local(2026, 3, 3, 9, 30)) == {
        "warned": 0, "breached": 0}

    ids = {calendar_day.id, working_day.id}
    assert [e for e in _events(session, case) if e[0] in ids] == [
        (calendar_day.id, "started"), (working_day.id, "started"),
        (calendar_day.id, "warned"), (working_day.id, "warned"),
        (calendar_day.id, "breached"), (working_day.id, "breached")]
    notifications = session.scalars(select(SlaNotification).where(
        SlaNotification.case_id == case.id)).all()
    assert sorted((n.timer_id, n.kind.value) for n in notifications) == sorted(
        [(calendar_day.id, "warning"), (working_day.id, "warning"),
         (calendar_day.id, "breach"), (working_day.id, "breach")])
    queued = session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.topic == "sla.notification")).all()
    assert {n.id for n in notifications} <= {p["notification_id"] for p in queued}


def test_paused_timers_neither_warn_nor_breach(session):
    case = cases_service.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Väntar",
                                   description="Fråga", received_at=local(2026, 3, 2, 9))
    resolution = _timer(session, case, "avslut")
    previous, case.status = case.status, CaseStatus.WAITING_ON_CITIZEN
    sla_service.on_case_event(session, case, "status_changed", previous=previous,
                              at=local(2026, 3, 2, 10))
    sla_service.scan_deadlines(session, now=local(2026, 3, 20, 9))
    assert resolution.status.value == "paused"
    assert resolution.warned_at is None and resolution.breached_at is None
    assert _timer(session, case, "epost-forsta-svar-24h").breached_at is not None


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        finally:
            db.session.remove()  # an open SQLite transaction would hold the write lock
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.worker
def test_real_beat_and_worker_warn_and_breach(committed, start_celery, smtp_server):
    now = utcnow()
    nearly = cases_service.open_case(committed, SYSTEM, channel=Channel.EMAIL,
                                     subject="Bygglov Storgatan 3", description="Fråga",
                                     received_at=now - timedelta(hours=20))
    late = cases_service.open_case(committed, SYSTEM, channel=Channel.EMAIL,
                                   subject="Bygglov Storgatan 5", description="Fråga",
                                   received_at=now - timedelta(hours=30))
    warned_id = _timer(committed, nearly, "epost-forsta-svar-24h").id
    breached_id = _timer(committed, late, "epost-forsta-svar-24h").id
    db.session.remove()
    worker = start_celery("worker")
    beat = start_celery("beat")

    def done() -> bool:
        warned, breached = db.session.get(SlaTimer, warned_id), db.session.get(
            SlaTimer, breached_id)
        sent = db.session.scalar(select(func.count()).select_from(SlaNotification).where(
            SlaNotification.timer_id.in_([warned_id, breached_id]),
            SlaNotification.sent_at.is_not(None)))
        return (warned.warned_at is not None and breached.breached_at is not None
                and sent == 2)

    try:
        _wait_until(done, 60, "the beat to warn, breach and mail")
    except AssertionError:
        print(worker.output()[-6000:], beat.output()[-3000:])
        raise
    warned, breached = db.session.get(SlaTimer, warned_id), db.session.get(SlaTimer, breached_id)
    assert warned.breached_at is None
    assert breached.breached_at == breached.due_at == late.received_at + timedelta(hours=24)
    assert db.session.get(Case, late.id).priority == Priority.HIGH
    assert db.session.get(Case, nearly.id).priority == Priority.NORMAL
    events = db.session.scalars(select(SlaLedgerEntry.event).where(
        SlaLedgerEntry.timer_id == breached_id).order_by(SlaLedgerEntry.id)).all()
    assert events == [LedgerEvent.STARTED, LedgerEvent.BREACHED]
    db.session.remove()

    def all_sent() -> bool:
        pending = db.session.scalar(select(func.count()).select_from(SlaNotification).where(
            SlaNotification.case_id.in_([nearly.id, late.id]),
            SlaNotification.sent_at.is_(None)))
        return pending == 0

    _wait_until(all_sent, 30, "every notification to be sent")
    sent = db.session.scalar(select(func.count()).select_from(SlaNotification).where(
        SlaNotification.case_id.in_([nearly.id, late.id])))
    db.session.remove()
    time.sleep(1)  # a duplicate delivery would land now
    mails = [(rcpt, message_from_string(text, policy=default))
             for rcpt, text in smtp_server.messages]
    assert len(mails) == sent  # one mail per warning or breach, none twice
    assert all(rcpt == ["maria.svensson@lund.example"] for rcpt, _ in mails)
    subjects = [str(mail["Subject"]) for _, mail in mails]
    assert any(s.startswith(f"SLA-varning {nearly.reference}: första svar") for s in subjects)
    assert any(s.startswith(f"SLA överskridet {late.reference}: första svar") for s in subjects)
    # The subject line of a case may hold personal data; it never goes into the mail.
    assert not any("Storgatan" in mail.as_string() for _, mail in mails)
