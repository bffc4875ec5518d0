"""Quarantine keeps the error that stopped a message, logs its traceback without the mail, and
an administrator re-processes it once the cause is gone: stored once, never twice."""

import logging
import uuid

import pytest
from sqlalchemy import func, select, text

from citizencenter.cases.models import Case, Message
from citizencenter.channels.email import polling
from citizencenter.channels.email.models import EmailMessage, QuarantinedEmail
from citizencenter.db import is_postgresql
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer

SENDER = "ingrid.holm@example.se"
BODY = "Hej! Min granne bygger ett plank mot min tomt."
CAUSE = "cases are closed for maintenance"


@pytest.fixture
def cases_refused(session):
    """A real cause that stops every new case (a trigger), and a way to remove it."""
    if is_postgresql(session):
        session.execute(text(
            "CREATE FUNCTION test_refuse_cases() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{CAUSE}'; END $$"))
        session.execute(text("CREATE TRIGGER test_refuse_cases BEFORE INSERT ON cases "
                             "FOR EACH ROW EXECUTE FUNCTION test_refuse_cases()"))
    else:
        session.execute(text("CREATE TRIGGER test_refuse_cases BEFORE INSERT ON cases "
                             f"BEGIN SELECT RAISE(ABORT, '{CAUSE}'); END"))
    session.commit()

    def remove() -> None:
        session.execute(text("DROP TRIGGER test_refuse_cases" if not is_postgresql(session)
                             else "DROP TRIGGER test_refuse_cases ON cases"))
        session.commit()
    return remove


def retry(client, tokens, quarantine_id: int, role: str = "admin"):
    return client.post(f"/api/v1/email/quarantine/{quarantine_id}/retry",
                       headers=bearer(tokens[role]))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_failed_message_is_kept_with_its_error_and_stored_once_after_the_fix(
        client, session, mail_token, tokens, cases_refused, caplog):
    raw = citizen_mail("Plank mot tomtgränsen", BODY, sender=SENDER)
    caplog.set_level(logging.INFO)
    response = client.post("/api/v1/integrations/email/mime", data=raw,
                           headers={**bearer(mail_token), "Content-Type": "message/rfc822"})
    assert response.status_code == 202, response.get_json()
    quarantine_id = response.get_json()["quarantine_id"]

    record = client.get(f"/api/v1/email/quarantine/{quarantine_id}",
                        headers=bearer(tokens["admin"])).get_json()
    assert record["reason"] == "processing-error"
    assert record["error_type"].startswith("sqlalchemy.exc.")
    assert CAUSE in record["error_message"]
    assert record["traceback"].startswith("Traceback (most recent call last)")
    assert "inbound.py" in record["traceback"] and CAUSE in record["traceback"]
    # The log has the frames, never the mail's address, subject, body or the error's text.
    logged = caplog.text
    assert f"e-mail quarantined: id={quarantine_id}" in logged
    assert "Traceback (most recent call last)" in logged and "inbound.py" in logged
    for secret in (SENDER, "Plank", BODY, CAUSE):
        assert secret not in logged

    # Retried while the cause is still there: still quarantined, with the reason.
    again = retry(client, tokens, quarantine_id)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["status"] == "quarantined"
    assert again.get_json()["quarantine_reason"] == "processing-error"
    assert count(session, EmailMessage) == 0

    cases_refused()
    stored = retry(client, tokens, quarantine_id)
    assert stored.status_code == 200, stored.get_json()
    body = stored.get_json()
    assert body["status"] == "stored" and body["new_case"] is True
    case = session.get(Case, uuid.UUID(body["case_id"]))
    assert case.contact.email == SENDER
    assert session.get(Message, body["message_id"]).body.strip() == BODY
    row = session.get(QuarantinedEmail, quarantine_id)
    assert row.stored_at is not None and row.retried_at is not None
    assert row.stored_case_id == case.id
    assert client.get(f"/api/v1/email/quarantine/{quarantine_id}", headers=bearer(
        tokens["admin"])).get_json()["stored_case_id"] == body["case_id"]

    # A second retry finds the stored message: the same case and message, nothing new.
    twice = retry(client, tokens, quarantine_id).get_json()
    assert (twice["status"], twice["case_id"], twice["message_id"]) == (
        "duplicate", body["case_id"], body["message_id"])
    assert count(session, EmailMessage) == 1
    assert retry(client, tokens, quarantine_id, "guide").status_code == 403
    assert retry(client, tokens, 10**9).status_code == 404


def test_a_polled_message_keeps_its_traceback_and_is_stored_by_a_retry(
        client, session, app, mailbox, tokens, cases_refused):
    uid = mailbox.append(citizen_mail("Snöröjning", BODY, sender=SENDER))
    result = polling.poll_mailbox(session, mailbox.config, app.config)
    assert result.outcomes == ["quarantined"]
    row = session.scalar(select(QuarantinedEmail).where(
        QuarantinedEmail.mailbox == mailbox.config.name))
    assert (row.uid, row.reason) == (uid, "processing-error")
    assert row.error_type.startswith("sqlalchemy.exc.")
    assert row.detail == row.error_type.rsplit(".", 1)[1]  # the class name, as before
    assert CAUSE in row.error_message and "polling.py" in row.traceback

    cases_refused()
    body = retry(client, tokens, row.id).get_json()
    assert body["status"] == "stored"
    stored = session.scalar(select(EmailMessage).where(
        EmailMessage.conversation_message_id == body["message_id"]))
    assert stored.mailbox == mailbox.config.name
