"""Receipts and replies at a real SMTP server, threading of the citizen's answers."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter import outbox
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email import outbound
from citizencenter.channels.email.message_ids import case_reference_from_message_id
from citizencenter.channels.email.models import AcknowledgedSender, EmailKind, EmailMessage
from citizencenter.channels.email.settings import signing_secrets
from citizencenter.db import utcnow
from citizencenter.mailer import MailNotSent
from tests.channels.email.helpers import citizen_mail, pending, run_email_outbox
from tests.factories import bearer

URL = "/api/v1/integrations/email/mime"


def post_mail(client, token, raw: bytes) -> dict:
    response = client.post(URL, data=raw, headers={**bearer(token),
                                                   "Content-Type": "message/rfc822"})
    assert response.status_code in (200, 201, 202), response.get_json()
    return response.get_json()


def guide_reply(client, tokens, case_id, body="Hej! Du behöver inte söka bygglov."):
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(tokens["guide"]),
                           json={"direction": "outbound", "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ids(header: str | None) -> list[str]:
    return [part.strip("<>") for part in (header or "").split()]


def test_receipt_reply_and_the_citizens_answers_thread(client, session, app, mail_token,
                                                       tokens, smtp):
    first = post_mail(client, mail_token, citizen_mail(
        "Plank mot gatan", message_id="q1@mail.example.se"))
    case = session.get(Case, uuid.UUID(first["case_id"]))
    assert run_email_outbox(session, app.config) == ["sent"]
    [ack] = smtp.messages
    mail = ack.message
    assert ack.rcpt_tos == ["karin.ek@example.se"]
    assert ack.mail_from == "medborgarcenter@lund.example"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == "<q1@mail.example.se>"
    assert mail["Subject"] == ("Vi har tagit emot ditt meddelande: Plank mot gatan "
                               f"[{case.reference}]")
    assert case.reference in mail.get_content() and "24 timmar" in mail.get_content()
    assert case_reference_from_message_id(mail["Message-ID"],
                                          signing_secrets(app.config)[0]) == case.reference
    session.refresh(case)
    assert case.first_response_at is None  # a receipt is not an answer
    auto = session.scalar(select(Message).where(Message.case_id == case.id,
                                                Message.direction == "outbound"))
    assert auto.channel_metadata["auto"] is True and auto.author_id is None
    assert auto.channel_metadata["email"]["status"] == "sent"
    assert outbound.send_acknowledgement(session, case.id, app.config) == "already-sent"

    guide_reply(client, tokens, case.id)
    assert run_email_outbox(session, app.config) == ["sent"]
    reply = smtp.messages[1].message
    assert reply["Auto-Submitted"] is None
    assert reply["From"].addresses[0].addr_spec == "medborgarcenter@lund.example"
    assert reply["In-Reply-To"] == "<q1@mail.example.se>"
    assert ids(reply["References"]) == ["q1@mail.example.se"]
    assert reply["Subject"] == f"Re: Plank mot gatan [{case.reference}]"
    assert "inte söka bygglov" in reply.get_content()
    assert case_reference_from_message_id(reply["Message-ID"],
                                          signing_secrets(app.config)[0]) == case.reference
    session.refresh(case)
    assert case.first_response_at is not None

    answers = [
        ("message_id", citizen_mail("Re: Plank", message_id="q2@mail.example.se",
                                    in_reply_to=reply["Message-ID"].strip("<>"))),
        ("stored_message_id", citizen_mail("Ett till", references=["q1@mail.example.se"])),
        ("subject", citizen_mail(f"Komplettering [{case.reference}]")),
    ]
    for source, raw in answers:
        result = post_mail(client, mail_token, raw)
        assert (result["case_id"], result["threaded_by"]) == (str(case.id), source)
        assert result["new_case"] is False and result["acknowledgement"] == "follow-up"
    assert pending(session, "email.acknowledge") == []
    assert len(smtp.messages) == 2


def test_a_reply_is_never_sent_twice(client, session, app, mail_token, tokens, smtp):
    case_id = post_mail(client, mail_token, citizen_mail("Fråga"))["case_id"]
    pending(session, "email.acknowledge")[0].published_at = utcnow()
    message_id = guide_reply(client, tokens, case_id)["id"]

    smtp.refuse = True  # the server says "try later": nothing was delivered
    with pytest.raises(MailNotSent):
        outbound.send_reply(session, message_id, app.config)
    email = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == f"reply:{message_id}"))
    assert (email.sending_at, email.sent_at, email.attempts) == (None, None, 1)
    assert email.last_error

    smtp.refuse = False
    assert outbound.send_reply(session, message_id, app.config) == "sent"
    assert outbound.send_reply(session, message_id, app.config) == "already-sent"
    assert len(smtp.messages) == 1
    assert smtp.messages[0].message["Message-ID"] == f"<{email.message_id}>"

    # A worker that died inside the SMTP transaction: delivery unknown, so no resend.
    second = guide_reply(client, tokens, case_id, "Ett till svar.")["id"]
    record = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == f"reply:{second}"))
    assert record is None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("citizencenter.mailer.send", _die_mid_send)
        with pytest.raises(SystemExit):
            outbound.send_reply(session, second, app.config)
    session.rollback()
    # A second delivery while the claim is young may still be the first attempt at work.
    assert outbound.send_reply(session, second, app.config) == "in-progress"
    assert session.get(Message, second).channel_metadata["email"]["status"] == "queued"
    # Redelivered after the worker's death (Celery waits for the visibility timeout).
    record = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == f"reply:{second}"))
    record.sending_at -= timedelta(seconds=3 * app.config["SMTP_TIMEOUT_S"] + 1)
    session.commit()
    assert outbound.send_reply(session, second, app.config) == "uncertain"
    assert len(smtp.messages) == 1
    message = session.get(Message, second)
    assert message.channel_metadata["email"]["status"] == "uncertain"


def _die_mid_send(message, config):
    raise SystemExit("worker killed")


def test_receipts_are_refused_for_machines_and_ourselves_and_limited_per_day(
        client, session, app, mail_token, smtp):
    auto = post_mail(client, mail_token, citizen_mail(
        "Frånvaro", headers={"Auto-Submitted": "auto-replied"}))
    assert auto["acknowledgement"] == "auto-submitted"
    own = post_mail(client, mail_token, citizen_mail(
        "Internt", sender="medborgarcenter@lund.example"))
    assert own["acknowledgement"] == "own-address"
    bulk = post_mail(client, mail_token, citizen_mail("Nyhetsbrev", headers={
        "Precedence": "bulk"}, sender="nyheter@example.se"))
    assert bulk["acknowledgement"] == "precedence"
    assert pending(session, "email.acknowledge") == []

    for n in range(2):
        assert post_mail(client, mail_token, citizen_mail(
            f"Ärende {n}", sender="ofta@example.se"))["acknowledgement"] == "queued"
    assert run_email_outbox(session, app.config) == ["sent", "recently-acknowledged"]
    assert [m.rcpt_tos for m in smtp.messages] == [["ofta@example.se"]]

    session.execute(update(AcknowledgedSender).values(
        last_sent_at=utcnow() - timedelta(hours=25)))
    post_mail(client, mail_token, citizen_mail("Dagen efter", sender="ofta@example.se"))
    assert run_email_outbox(session, app.config) == ["sent"]
    assert len(smtp.messages) == 2


def test_a_web_form_inquiry_gets_a_receipt_without_in_reply_to(session, app, smtp):
    case = cases.add_case(session, SYSTEM, channel=Channel.WEBFORM, subject="Fråga om skolskjuts",
                          description="Har mitt barn rätt till skolskjuts?",
                          contact={"name": "Lina Persson", "email": "lina@example.se"})
    outbox.enqueue(session, "email.acknowledge", {"case_id": str(case.id)})
    session.commit()
    assert run_email_outbox(session, app.config) == ["sent"]
    [ack] = smtp.messages
    mail = ack.message
    assert mail["In-Reply-To"] is None and mail["References"] is None
    assert mail["Subject"] == (f"Vi har tagit emot ditt meddelande: Fråga om skolskjuts "
                               f"[{case.reference}]")
    assert mail["Auto-Submitted"] == "auto-replied" and ack.rcpt_tos == ["lina@example.se"]
    session.refresh(case)
    assert case.first_response_at is None


def test_replies_to_closed_cases_reopen_or_open_a_linked_case(client, session, app, mail_token,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_REOPEN_DAYS", 30)
    first = post_mail(client, mail_token, citizen_mail("Gatlykta", message_id="l1@example.se"))
    case = session.get(Case, uuid.UUID(first["case_id"]))

    def close(days_ago: int) -> None:
        at = utcnow() - timedelta(days=days_ago)
        session.execute(update(Case).where(Case.id == case.id).values(
            status=CaseStatus.CLOSED, resolved_at=at, closed_at=at, version=Case.version + 1))
        session.commit()
        session.refresh(case)

    close(5)
    again = post_mail(client, mail_token, citizen_mail("Re: Gatlykta",
                                                       references=["l1@example.se"]))
    assert again["case_id"] == str(case.id)
    session.refresh(case)
    assert case.status == CaseStatus.OPEN and case.closed_at is None

    close(40)
    out_of_office = post_mail(client, mail_token, citizen_mail(
        "Autosvar", references=["l1@example.se"], headers={"Auto-Submitted": "auto-replied"}))
    assert out_of_office["case_id"] == str(case.id)
    session.refresh(case)
    assert case.status == CaseStatus.CLOSED  # machines never reopen a case

    late = post_mail(client, mail_token, citizen_mail("Re: Gatlykta igen",
                                                      references=["l1@example.se"]))
    assert late["new_case"] is True and late["case_id"] != str(case.id)
    new_case = session.get(Case, uuid.UUID(late["case_id"]))
    assert new_case.linked_case_id == case.id
    message = session.get(Message, late["message_id"])
    assert message.channel_metadata["linked_case"]["reference"] == case.reference
    session.refresh(case)
    assert case.status == CaseStatus.CLOSED


def test_a_reply_on_a_case_without_an_address_is_not_sent(client, session, app, tokens, smtp):
    case = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Utan adress",
                           description="Lapp i brevlådan", contact={"name": "Okänd"})
    message_id = guide_reply(client, tokens, case.id)["id"]
    assert run_email_outbox(session, app.config) == ["no-address"]
    assert smtp.messages == []
    assert session.get(Message, message_id).channel_metadata["email"]["status"] == "no-address"
    kinds = session.scalars(select(EmailMessage.kind).where(EmailMessage.case_id == case.id))
    assert EmailKind.REPLY not in set(kinds)
