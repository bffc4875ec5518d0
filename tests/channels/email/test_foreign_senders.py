"""Mail naming a case from an address that is not the case's contact opens a linked case."""

import logging
import uuid

import pytest
from sqlalchemy import func, select, update

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.message_ids import make_message_id
from citizencenter.db import utcnow
from citizencenter.routing.models import RoutingDecision
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer

URL = "/api/v1/integrations/email/mime"
KARIN = "karin.ek@example.se"
STRANGER = "okand.person@example.org"
SECRET = "foreign-sender-test-secret"


@pytest.fixture(autouse=True)
def known_signing_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_SIGNING_SECRETS", SECRET)


def post_mail(client, token, raw: bytes) -> dict:
    response = client.post(URL, data=raw, headers={**bearer(token),
                                                   "Content-Type": "message/rfc822"})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def karins_resolved_case(client, session, mail_token) -> Case:
    first = post_mail(client, mail_token, citizen_mail("Grovsopor", sender=KARIN,
                                                       message_id="karin-1@example.se"))
    case = session.get(Case, uuid.UUID(first["case_id"]))
    at = utcnow()
    session.execute(update(Case).where(Case.id == case.id).values(
        status=CaseStatus.RESOLVED, resolved_at=at, version=Case.version + 1))
    session.commit()
    session.refresh(case)
    return case


def _messages(session, case: Case) -> int:
    return session.scalar(select(func.count()).select_from(Message)
                          .where(Message.case_id == case.id))


def _naming(case: Case, source: str, sender: str, **extra) -> bytes:
    """Mail naming `case` by one of the three threading sources."""
    if source == "message_id":
        ours = make_message_id(case.reference, SECRET.encode(), "lund.example").strip("<>")
        return citizen_mail("Re: Grovsopor", sender=sender, in_reply_to=ours, **extra)
    if source == "stored_message_id":
        return citizen_mail("Re: Grovsopor", sender=sender, references=["karin-1@example.se"],
                            **extra)
    return citizen_mail(f"Re: [{case.reference}]", sender=sender, **extra)


@pytest.mark.parametrize("source", ["subject", "stored_message_id", "message_id"])
def test_a_stranger_naming_a_case_gets_a_new_linked_case(client, session, mail_token, caplog,
                                                         source):
    case = karins_resolved_case(client, session, mail_token)
    before = _messages(session, case)
    with caplog.at_level(logging.DEBUG):
        result = post_mail(client, mail_token, _naming(case, source, STRANGER))

    assert result["status"] == "stored" and result["new_case"] is True
    assert result["case_id"] != str(case.id)
    new = session.get(Case, uuid.UUID(result["case_id"]))
    assert new.linked_case_id == case.id and new.contact.email == STRANGER
    message = session.get(Message, result["message_id"])
    assert message.channel_metadata["linked_case"] == {
        "id": str(case.id), "reference": case.reference, "reason": "sender_not_contact"}
    # Karin's case keeps its conversation and stays resolved.
    session.refresh(case)
    assert case.status == CaseStatus.RESOLVED and _messages(session, case) == before
    # The routing log and the audit say why, without the address.
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.case_id == new.id, RoutingDecision.kind == "linked"))
    assert decision.reason == "sender_not_contact"
    assert decision.details == {"linked_case_id": str(case.id), "threaded_by": source}
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.entity_id == str(new.id), AuditEntry.action == "case.linked"))
    assert entry.data["linked_case_id"] == str(case.id)
    assert STRANGER not in str(entry.data) and KARIN not in str(decision.details)
    assert case.reference in caplog.text
    assert STRANGER not in caplog.text and KARIN not in caplog.text


@pytest.mark.parametrize("source", ["subject", "stored_message_id", "message_id"])
def test_the_contact_still_threads_onto_the_case(client, session, mail_token, source):
    case = karins_resolved_case(client, session, mail_token)
    result = post_mail(client, mail_token, _naming(case, source, "Karin.Ek@Example.SE"))
    assert (result["case_id"], result["threaded_by"]) == (str(case.id), source)
    session.refresh(case)
    assert case.status == CaseStatus.OPEN  # the citizen writing again reopens it


def test_machine_mail_answering_our_signed_id_stays_on_the_case(client, session, mail_token):
    case = karins_resolved_case(client, session, mail_token)
    before = _messages(session, case)
    out_of_office = post_mail(client, mail_token, _naming(
        case, "message_id", "vikarie@skolan.example",
        headers={"Auto-Submitted": "auto-replied"}))
    assert (out_of_office["case_id"], out_of_office["threaded_by"]) == (
        str(case.id), "message_id")
    session.refresh(case)
    assert case.status == CaseStatus.RESOLVED and _messages(session, case) == before + 1
    # Anyone can write a subject tag, even with an auto-reply header.
    tagged = post_mail(client, mail_token, _naming(
        case, "subject", "vikarie@skolan.example", headers={"Auto-Submitted": "auto-replied"}))
    assert tagged["new_case"] is True
    assert session.get(Case, uuid.UUID(tagged["case_id"])).linked_case_id == case.id
