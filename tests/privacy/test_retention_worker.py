"""The nightly retention task, run by a real Celery worker process."""

import time
from datetime import timedelta

from celery import Celery
from sqlalchemy import delete, select

from citizencenter.cases.models import Case, Message
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.privacy.models import CaseErasure, RetentionRule
from citizencenter.privacy.retention import service as retention


def test_the_worker_erases_what_is_due(app, committed, engine, start_celery, redis_server):
    session = committed
    contact = Contact(name="Greta Nattlig", email="greta.nattlig@example.se")
    session.add(contact)
    session.flush()
    closed = utcnow() - timedelta(days=800)
    case = Case(reference="RET-WORKER-1", channel="email", subject="Nattens fråga",
                contact_id=contact.id, status="closed", received_at=closed,
                resolved_at=closed, closed_at=closed, routed_at=closed, sla_started_at=closed)
    session.add(case)
    session.flush()
    session.add(Message(case_id=case.id, direction="inbound", channel="email",
                        body="Hemlig fråga"))
    session.commit()
    rule = retention.create_rule(session, "user:test", {"keep_months": 12})
    case_id, contact_id, rule_id = case.id, contact.id, rule.id
    try:
        start_celery("worker")
        Celery(broker=redis_server.url).send_task("retention.run", queue="celery")
        deadline = time.monotonic() + 120  # generous: the machine is shared and slow
        while session.get(CaseErasure, case_id) is None and time.monotonic() < deadline:
            session.rollback()
            time.sleep(0.5)
        session.rollback()
        assert session.get(CaseErasure, case_id) is not None
        assert session.get(Case, case_id).subject == "Gallrat ärende"
        assert session.scalar(select(Message.body).where(Message.case_id == case_id)) == ""
        assert session.get(Contact, contact_id).name is None
    finally:
        session.rollback()
        for statement in (delete(Message).where(Message.case_id == case_id),
                          delete(Case).where(Case.id == case_id),
                          delete(Contact).where(Contact.id == contact_id),
                          delete(RetentionRule).where(RetentionRule.id == rule_id)):
            session.execute(statement)
        session.commit()
