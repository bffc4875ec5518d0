"""The citizen's view of their case, /mitt-arende/<token>: what it shows and refuses, the
message it takes, the staff's revocation, and that its token stays out of log lines."""

import email
import email.policy
import logging
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel, Direction
from citizencenter.cases.models import Message
from citizencenter.channels.email import outbound
from citizencenter.citizen_view import links
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.logs import PersonalDataFilter, mask_personal_data
from tests.conftest import running_smtp
from tests.factories import bearer

_n = iter(range(1, 10**6))


def _case(session, **contact):
    n = next(_n)
    contact = contact or {"name": "Karin Ek",
                          "email": f"karin.view{n}.{uuid.uuid4().hex[:6]}@example.se"}
    return cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject=f"Plank {n}",
                           description="Behövs bygglov för ett plank?", category="bygglov",
                           contact=contact)


def _sent_reply(session, case_id, body):
    message = cases.add_message(session, SYSTEM, case_id, direction=Direction.OUTBOUND,
                                body=body)
    message.channel_metadata = {"email": {"status": "sent",
                                          "sent_at": utcnow().isoformat()}}
    session.commit()
    return message


def _path(app, case_id, now=None):
    return links.PATH + links.make_token(app.config, case_id, now)


def _form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_the_page_shows_status_and_replies_sent_but_never_notes(app, client, session):
    case = _case(session)
    _sent_reply(session, case.id, "Du behöver inget bygglov för plank under 1,8 m.")
    cases.add_message(session, SYSTEM, case.id, direction=Direction.INTERNAL,
                      body="Intern anteckning: ring förvaltningen.")
    cases.add_message(session, SYSTEM, case.id, direction=Direction.OUTBOUND,
                      body="Ett svar som aldrig skickades.")  # queued, not delivered
    response = client.get(_path(app, case.id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert case.reference in html
    assert "Vi handlägger ditt ärende" in html  # the status in plain Swedish
    assert "Du behöver inget bygglov" in html
    assert "Intern anteckning" not in html and "aldrig skickades" not in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_protected_identity_shows_no_status_history(app, client, session):
    case = _case(session, name="Skyddad Person", email=f"skydd{uuid.uuid4().hex[:6]}@example.se")
    session.get(Contact, case.contact_id).protection = "sekretessmarkering"
    session.commit()
    _sent_reply(session, case.id, "Vi har tagit emot ditt ärende.")
    html = client.get(_path(app, case.id)).get_data(as_text=True)
    assert "Vi har tagit emot ditt ärende." in html
    assert "Status ändrad" not in html


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t,
                                    lambda t: "inte-en-token"])
def test_a_forged_or_damaged_link_is_404_and_reveals_nothing(app, client, session, mangle):
    case = _case(session)
    token = links.make_token(app.config, case.id)
    response = client.get(links.PATH + mangle(token))
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Länken fungerar inte" in html and case.reference not in html


def test_a_link_for_an_unknown_case_is_404(app, client, session):
    response = client.get(_path(app, uuid.uuid4()))
    assert response.status_code == 404


def test_an_expired_link_is_410(app, client, session):
    case = _case(session)
    ttl = timedelta(days=app.config["CITIZEN_LINK_TTL_DAYS"])
    issued = utcnow() - ttl - timedelta(hours=1)
    token = links.make_token(app.config, case.id, now=issued)
    with pytest.raises(links.LinkGone):
        links.read_token(app.config, token, now=issued + ttl)
    assert links.read_token(app.config, token, now=issued + ttl - timedelta(seconds=1))[0] \
        == case.id
    response = client.get(links.PATH + token)
    assert response.status_code == 410
    assert "Länken har gått ut." in response.get_data(as_text=True)
    assert case.reference not in response.get_data(as_text=True)


def test_staff_revoke_the_links_audited_and_later_links_work(app, client, session, tokens):
    case = _case(session)
    old = _path(app, case.id, now=utcnow() - timedelta(minutes=5))
    assert client.get(old).status_code == 200
    response = client.post(f"/api/v1/cases/{case.id}/citizen-link/revoke",
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 200, response.get_json()
    assert client.get(old).status_code == 410
    page = client.get(old).get_data(as_text=True)
    assert "återkallats" in page and case.reference not in page
    assert client.get(_path(app, case.id, now=utcnow() + timedelta(seconds=2))).status_code \
        == 200
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.citizen_link_revoked",
        AuditEntry.entity_id == str(case.id))) is not None
    assert client.post(f"/api/v1/cases/{uuid.uuid4()}/citizen-link/revoke",
                       headers=bearer(tokens["guide"])).status_code == 404
    assert client.post(f"/api/v1/cases/{case.id}/citizen-link/revoke").status_code == 401


def test_a_message_lands_inbound_reopens_and_masks_the_personnummer(app, client, session):
    case = _case(session)
    cases.update_case(session, SYSTEM, case.id, case.version,
                      {"status": CaseStatus.RESOLVED})
    path = _path(app, case.id)
    form = _form_token(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"form_token": form,
                                       "message": "Jag har en fråga till. "
                                                  "Mitt nr 19121212-1212\x00"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?skickat=1")
    session.expire_all()
    message = session.scalar(select(Message).where(Message.case_id == case.id,
                                                   Message.direction == Direction.INBOUND)
                             .order_by(Message.id.desc()).limit(1))
    assert message.body.startswith("Jag har en fråga till.")
    assert "1212-1212" not in message.body and "\x00" not in message.body
    assert message.channel == Channel.EMAIL and message.channel_metadata["citizen_view"]
    assert cases.get_case(session, SYSTEM, case.id).status == CaseStatus.OPEN
    shown = client.get(path + "?skickat=1").get_data(as_text=True)
    assert "Ditt meddelande har kommit fram" in shown and "Jag har en fråga till." in shown


@pytest.mark.parametrize("text, wanted", [("   \n ", "Skriv ett meddelande."),
                                          ("a" * 5001, "högst 5000 tecken")])
def test_empty_and_oversized_messages_are_refused(app, client, session, text, wanted):
    case = _case(session)
    path = _path(app, case.id)
    form = _form_token(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"form_token": form, "message": text})
    assert response.status_code == 422
    assert wanted in response.get_data(as_text=True)
    assert session.scalar(select(Message).where(
        Message.case_id == case.id, Message.direction == Direction.INBOUND,
        Message.channel_metadata["citizen_view"].as_boolean().is_(True))) is None


def test_the_form_needs_its_token_bound_to_the_link(app, client, session):
    case, other = _case(session), _case(session)
    path = _path(app, case.id)
    other_form = _form_token(client.get(_path(app, other.id)).get_data(as_text=True))
    assert client.post(path, data={"message": "Hej"}).status_code == 400
    assert client.post(path, data={"message": "Hej", "form_token": other_form}
                       ).status_code == 400


def test_the_link_token_is_masked_in_log_lines(app, client, session, caplog):
    case = _case(session)
    path = _path(app, case.id)
    token = path.rsplit("/", 1)[1]
    line = f'127.0.0.1 - - "GET {path}?skickat=1 HTTP/1.1" 200 1234'
    assert token not in mask_personal_data(line)
    assert "/mitt-arende/[token]" in mask_personal_data(line)
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s", (line,),
                               None)
    PersonalDataFilter().filter(record)
    assert token not in record.getMessage()
    with caplog.at_level(logging.DEBUG):
        client.get(path)
        client.post(path, data={"message": "Hej"})
    assert token not in caplog.text


def test_the_email_acknowledgement_carries_the_link(app, session):
    case = _case(session)
    with running_smtp(lambda envelope: email.message_from_bytes(
            envelope.content, policy=email.policy.default)) as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port,
                  "PUBLIC_BASE_URL": "https://medborgarcenter.example/"}
        assert outbound.send_acknowledgement(session, case.id, config) == "sent"
    text = smtp.messages[0].get_body(("plain",)).get_content()
    link = re.search(r"https://medborgarcenter\.example/mitt-arende/\S+", text).group(0)
    assert links.read_token(app.config, link.rsplit("/", 1)[1])[0] == case.id
    conversation = session.scalar(select(Message).where(
        Message.case_id == case.id, Message.direction == Direction.OUTBOUND))
    assert "/mitt-arende/" not in conversation.body  # the token is not shown to staff


def test_no_link_without_a_public_base_url(app, session):
    assert links.link_for_case({**app.config, "PUBLIC_BASE_URL": ""}, uuid.uuid4()) is None


def test_messages_are_rate_limited_per_case(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "CITIZEN_MESSAGE_RATE_LIMIT", 2)
    case = _case(session)
    path = _path(app, case.id)
    form = _form_token(client.get(path).get_data(as_text=True))
    address = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}
    answers = [client.post(path, data={"form_token": form, "message": f"Meddelande {n}"},
                           environ_base=address).status_code for n in range(3)]
    assert answers == [303, 303, 429]
    assert "Vänta en stund" in client.post(path, data={"form_token": form, "message": "x"},
                                           environ_base=address).get_data(as_text=True)
