"""A real Celery worker sends the receipt and the guide's reply, each exactly once."""

import time

import pytest
from sqlalchemy import select

from citizencenter import db, outbox
from citizencenter.accounts import service as accounts
from citizencenter.channels.email.models import EmailKind, EmailMessage
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer

pytestmark = pytest.mark.worker


def test_a_worker_sends_the_receipt_and_the_reply_once(app, email_committed, start_celery,
                                                       smtp):
    _, mail_token = accounts.create_token(email_committed, "worker mail", scopes=["mail:ingest"])
    _, guide_token = accounts.create_token(email_committed, "worker guide",
                                           user_email="anna.lindqvist@lund.example")
    db.session.remove()
    client = app.test_client()
    worker = start_celery("worker")

    response = client.post("/api/v1/integrations/email/mime", data=citizen_mail(
        "Bygglov för friggebod", message_id="worker-1@mail.example.se"),
        headers={**bearer(mail_token), "Content-Type": "message/rfc822"})
    db.session.remove()  # on SQLite an open transaction would hold the write lock
    assert response.status_code == 201
    case = response.get_json()
    assert smtp.wait_for(1)[0].message["In-Reply-To"] == "<worker-1@mail.example.se>"

    response = client.post(f"/api/v1/cases/{case['case_id']}/messages",
                           headers=bearer(guide_token),
                           json={"direction": "outbound", "body": "Nej, det behövs inte."})
    db.session.remove()
    assert response.status_code == 201
    message_id = response.get_json()["id"]
    received = smtp.wait_for(2)
    assert len(received) == 2, worker.output()[-3000:]
    reply = received[1].message
    assert reply["Subject"] == f"Re: Bygglov för friggebod [{case['case_reference']}]"
    assert reply["In-Reply-To"] == "<worker-1@mail.example.se>"
    assert reply["Auto-Submitted"] is None and received[1].rcpt_tos == ["karin.ek@example.se"]

    # The same task delivered again (as after a lost acknowledgement) sends nothing.
    outbox.get_publisher().send("email.send_reply", [{"message_id": message_id}])
    outbox.get_publisher().send("email.send_acknowledgement", [{"case_id": case["case_id"]}])
    time.sleep(3)
    assert len(smtp.messages) == 2
    db.session.remove()
    sent = email_committed.scalars(select(EmailMessage).where(
        EmailMessage.kind != EmailKind.INBOUND).order_by(EmailMessage.id)).all()
    assert [(e.kind, e.attempts, e.sent_at is not None) for e in sent] == [
        (EmailKind.ACKNOWLEDGEMENT, 1, True), (EmailKind.REPLY, 1, True)]
    db.session.remove()
