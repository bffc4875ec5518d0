"""Every outgoing message in the conversation carries its delivery state in the API
(queued, sent, failed with the reason), read from what sending records."""

import pytest

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel, Direction
from citizencenter.channels.email import outbound
from citizencenter.channels.email.models import EmailKind
from citizencenter.channels.webform import service as webform
from citizencenter.mailer import MailNotSent
from tests.conftest import recipients_and_text, running_smtp
from tests.factories import bearer


def _conversation(client, token, case_id) -> dict[str, dict]:
    response = client.get(f"/api/v1/cases/{case_id}/messages", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return {m["body"]: m for m in response.get_json()["items"]}


def test_the_conversation_shows_queued_sent_and_failed_with_the_reason(client, session, app,
                                                                       tokens):
    case = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Bygglov plank",
                           description="Behövs bygglov för ett plank?",
                           contact={"name": "Karin Ek", "email": "karin.delivery@example.se"})
    posted = client.post(f"/api/v1/cases/{case.id}/messages", headers=bearer(tokens["admin"]),
                         json={"direction": "outbound", "body": "Svar i kö"})
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["delivery"]["state"] == "queued"
    sent = cases.add_message(session, SYSTEM, case.id, direction=Direction.OUTBOUND,
                             body="Svar skickat")
    refused = cases.add_message(session, SYSTEM, case.id, direction=Direction.OUTBOUND,
                                body="Svar nekat")
    cases.add_message(session, SYSTEM, case.id, direction=Direction.INTERNAL,
                      body="En anteckning")

    with running_smtp(recipients_and_text) as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}
        assert outbound.send_reply(session, sent.id, config) == "sent"
    with running_smtp(recipients_and_text, refuse="554 5.7.1 Message refused") as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}
        with pytest.raises(MailNotSent) as refusal:
            outbound.send_reply(session, refused.id, config)
    # Refused once it is still queued: the task tries again later.
    shown = _conversation(client, tokens["admin"], case.id)
    assert shown["Svar nekat"]["delivery"]["state"] == "queued"
    # After the last retry the task gives up, with the reason (as workers/tasks/email.py).
    assert outbound.give_up(session, EmailKind.REPLY, refused.id,
                            f"MailNotSent: {refusal.value}", app.config) == "failed"

    shown = _conversation(client, tokens["admin"], case.id)
    assert shown["Svar i kö"]["delivery"] == {
        "state": "queued", "channel": "email", "reason": None, "sent_at": None,
        "failed_at": None}
    assert shown["Svar skickat"]["delivery"]["state"] == "sent"
    assert shown["Svar skickat"]["delivery"]["sent_at"] is not None
    failed = shown["Svar nekat"]["delivery"]
    assert failed["state"] == "failed" and failed["failed_at"] is not None
    assert failed["reason"] == "MailNotSent: SMTPDataError"
    assert shown["En anteckning"]["delivery"] is None
    assert shown["Behövs bygglov för ett plank?"]["delivery"] is None  # inbound


def test_the_acknowledgement_of_a_web_form_case_shows_its_delivery(client, session, app,
                                                                   tokens):
    case = webform.submit_inquiry(session, category="bygglov", subject="Plank mot gatan",
                                  message="Behövs bygglov?", name="Karin Ek",
                                  email="karin.ack.delivery@example.se")
    with running_smtp(recipients_and_text) as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}
        assert outbound.send_acknowledgement(session, case.id, config) == "sent"
    shown = _conversation(client, tokens["admin"], case.id).values()
    [ack] = [m for m in shown if m["direction"] == "outbound"]
    assert ack["channel"] == "webform" and ack["channel_metadata"]["auto"] is True
    assert ack["delivery"]["state"] == "sent" and ack["delivery"]["channel"] == "email"
