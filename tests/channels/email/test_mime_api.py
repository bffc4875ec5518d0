"""POST /api/v1/integrations/email/mime: storing, deduplication and bad input."""

import uuid

import pytest
from sqlalchemy import func, select

from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.models import EmailAttachment, EmailMessage
from tests.channels.email.helpers import citizen_mail, pending
from tests.factories import bearer

URL = "/api/v1/integrations/email/mime"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def post(client, token, raw: bytes, content_type: str = "message/rfc822"):
    return client.post(URL, data=raw, headers={**bearer(token), "Content-Type": content_type})


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_message_opens_a_case_with_contact_files_and_a_queued_receipt(client, session,
                                                                        mail_token):
    raw = citizen_mail("Bygglov för plank", "Hej! Får jag bygga ett plank?",
                       attachment=("ritning.pdf", "application/pdf", PDF))
    response = post(client, mail_token, raw)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "stored" and body["new_case"] is True
    assert body["acknowledgement"] == "queued" and body["case_reference"].startswith("MC-")
    case = session.get(Case, uuid.UUID(body["case_id"]))
    assert case.channel.value == "email" and case.subject == "Bygglov för plank"
    assert (case.contact.email, case.contact.name) == ("karin.ek@example.se", "Karin Ek")
    message = session.get(Message, body["message_id"])
    assert message.body.strip() == "Hej! Får jag bygga ett plank?"
    [attachment] = session.scalars(select(EmailAttachment).where(
        EmailAttachment.case_id == case.id)).all()
    assert attachment.content == PDF and attachment.detected_type == "application/pdf"
    assert [p.payload for p in pending(session, "email.acknowledge")] == [
        {"case_id": str(case.id)}]
    assert case.first_response_at is None


def test_the_same_message_twice_is_stored_once(client, session, mail_token):
    raw = citizen_mail("Två gånger")
    first, again = post(client, mail_token, raw), post(client, mail_token, raw)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["status"] == "duplicate"
    assert again.get_json()["case_id"] == first.get_json()["case_id"]
    assert count(session, EmailMessage) == 1
    # Without a Message-ID the content decides, whatever the transport added.
    bare = citizen_mail("Utan id", message_id=None)
    assert post(client, mail_token, bare).status_code == 201
    assert post(client, mail_token, b"Received: from mx2\r\n" + bare).status_code == 200
    assert count(session, EmailMessage) == 2


def test_dedupe_is_a_unique_constraint(session):
    from sqlalchemy.exc import IntegrityError

    from citizencenter.channels.email.models import EmailKind

    session.add(EmailMessage(kind=EmailKind.INBOUND, dedupe_key="x@example.se"))
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(EmailMessage(kind=EmailKind.INBOUND, dedupe_key="x@example.se"))


def test_files_are_served_as_their_checked_type_to_those_who_may_see_the_case(
        client, session, mail_token, tokens):
    raw = citizen_mail("Filer", attachment=("faktura.pdf", "application/pdf",
                                            b"MZ\x90\x00 not really a pdf"))
    case_id = uuid.UUID(post(client, mail_token, raw).get_json()["case_id"])
    message = session.scalar(select(Message).where(Message.case_id == case_id))
    [refused] = message.channel_metadata["attachments"]
    assert refused["rejected_reason"] == "executable"
    response = client.get(f"/api/v1/email/attachments/{refused['id']}",
                          headers=bearer(tokens["guide"]))
    assert response.status_code == 410
    assert response.mimetype == "application/problem+json"

    raw = citizen_mail("Fler filer", attachment=("karta.pdf", "application/pdf", PDF))
    case_id = uuid.UUID(post(client, mail_token, raw).get_json()["case_id"])
    message = session.scalar(select(Message).where(Message.case_id == case_id))
    [kept] = message.channel_metadata["attachments"]
    response = client.get(f"/api/v1/email/attachments/{kept['id']}",
                          headers=bearer(tokens["guide"]))
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    # Department staff see only their department's cases: 404, not 403.
    assert client.get(f"/api/v1/email/attachments/{kept['id']}",
                      headers=bearer(tokens["department"])).status_code == 404


@pytest.mark.parametrize("raw, detail", [
    (b"", "empty message"),
    (b"just some words\r\nwithout any header block\r\n", "no message header block"),
    (b"\x00\x01\x02\xff" * 50, "no message header block"),
])
def test_unreadable_input_is_a_problem_and_changes_nothing(client, session, mail_token, raw,
                                                           detail):
    cases_before = count(session, Case)
    response = post(client, mail_token, raw)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert detail in response.get_json()["detail"]
    assert count(session, EmailMessage) == 0 and count(session, Case) == cases_before


def test_broken_mime_and_missing_headers_are_still_stored(client, session, mail_token):
    broken = (b"From: Nils <nils@example.se>\r\nSubject: Carport\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n"
              b"Beh\xc3\xb6ver jag bygglov?\r\n--x--\r\n")
    response = post(client, mail_token, broken)
    assert response.status_code == 201
    message = session.get(Message, response.get_json()["message_id"])
    assert "Behöver jag bygglov?" in message.body
    assert "boundary-guessed" in message.channel_metadata["defects"]

    no_sender = b"Subject: Skannat\r\n\r\nDokument fran skrivaren.\r\n"
    response = post(client, mail_token, no_sender)
    assert response.status_code == 201
    assert response.get_json()["acknowledgement"] == "missing-from"
    assert session.get(Case, uuid.UUID(response.get_json()["case_id"])).contact is None


def test_wrong_content_type_bad_token_and_scope(client, session, tokens, mail_token):
    raw = citizen_mail("Fel")
    response = post(client, mail_token, raw, "application/json")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert post(client, "cc_not-a-token", raw).status_code == 401
    assert post(client, tokens["integration"], raw).status_code == 403  # calls:write only
    assert client.post(URL, data=raw, headers={"Content-Type": "message/rfc822"}
                       ).status_code == 401
    assert count(session, EmailMessage) == 0


def test_a_30_mb_message_is_refused_with_413(client, session, mail_token):
    raw = citizen_mail("Stor", attachment=("film.pdf", "application/pdf",
                                           b"%PDF-1.4\n" + b"0" * (23 * 1024 * 1024)))
    assert len(raw) > 30 * 1024 * 1024
    response = post(client, mail_token, raw)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert count(session, EmailMessage) == 0


def test_a_failure_while_storing_quarantines_instead_of_500(client, session, mail_token,
                                                            tokens, monkeypatch):
    from citizencenter.channels.email import inbound

    def explode(*args, **kwargs):
        raise RuntimeError("karin.ek@example.se broke it")  # must not reach the log

    monkeypatch.setattr(inbound, "_find_case", explode)
    cases_before = count(session, Case)
    raw = citizen_mail("Kraschar")
    response = post(client, mail_token, raw)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "quarantined" and body["case_id"] is None
    record = client.get(f"/api/v1/email/quarantine/{body['quarantine_id']}",
                        headers=bearer(tokens["admin"])).get_json()
    assert record["reason"] == "processing-error" and record["detail"] == "RuntimeError"
    assert count(session, EmailMessage) == 0 and count(session, Case) == cases_before
    raw_back = client.get(f"/api/v1/email/quarantine/{body['quarantine_id']}/raw",
                          headers=bearer(tokens["admin"]))
    assert raw_back.data == raw
