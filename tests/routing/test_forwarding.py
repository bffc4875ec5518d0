"""Forwarding to a department: its queue and clock, the e-mail and signed webhook, send-back."""

import json
import uuid

import pytest
from sqlalchemy import func, select, update

from citizencenter.accounts.models import Department
from citizencenter.cases.models import Case, Message
from citizencenter.integrations import signatures
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import notifications
from citizencenter.routing.models import CaseForwarding, GuideProfile, Presence
from tests.factories import bearer, create_case


@pytest.fixture(autouse=True)
def nobody_free(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def _forward(client, token, case_id, **body):
    return client.post(f"/api/v1/cases/{case_id}/forward", headers=bearer(token),
                       json={"department": "stadsbyggnad", "note": "Gäller strandskydd.", **body})


def test_forward_puts_the_case_in_the_departments_queue_with_its_own_clock(client, tokens,
                                                                           session):
    case = create_case(client, tokens["guide"])
    response = _forward(client, tokens["guide"], case["id"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["department"] == "stadsbyggnad"
    assert body["department_due_at"] > body["forwarded_at"]
    stored = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"])).get_json()
    assert stored["status"] == "forwarded" and stored["queue"] == "bygglov"
    assert stored["department"] == "stadsbyggnad" and stored["assignee"] is None
    note = session.scalar(select(Message).where(Message.case_id == uuid.UUID(stored["id"]),
                                                Message.direction == "internal"))
    assert note.body == "Gäller strandskydd."
    notice = session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == "routing.case_forwarded"))
    assert notice.payload == {"forwarding_id": body["id"]}
    # Department staff now see it, and the routing history says why.
    assert client.get(f"/api/v1/cases/{case['id']}",
                      headers=bearer(tokens["department"])).status_code == 200
    history = client.get(f"/api/v1/cases/{case['id']}/routing",
                         headers=bearer(tokens["guide"])).get_json()["items"]
    assert [d["kind"] for d in history][-1] == "forwarded"


def test_bad_forwards_are_refused_and_change_nothing(client, tokens, session):
    case = create_case(client, tokens["guide"])
    before = session.scalar(select(func.count()).select_from(CaseForwarding))
    for body, status, field in (({"department": "ingenstans"}, 422, "department"),
                                ({"note": 5}, 422, "note"),
                                ({"priority": "high"}, 422, "priority")):
        response = _forward(client, tokens["guide"], case["id"], **body)
        assert response.status_code == status, response.get_json()
        assert field in [e["field"] for e in response.get_json()["errors"]]
    assert _forward(client, tokens["department"], case["id"]).status_code == 404
    assert _forward(client, tokens["guide"],
                    "00000000-0000-0000-0000-000000000000").status_code == 404
    assert session.scalar(select(func.count()).select_from(CaseForwarding)) == before
    assert _forward(client, tokens["guide"], case["id"]).status_code == 201
    assert _forward(client, tokens["guide"], case["id"]).status_code == 409  # already there


def test_the_department_sends_it_back_to_the_centres_queue(client, tokens, session):
    case = create_case(client, tokens["guide"])
    _forward(client, tokens["guide"], case["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/send-back", json={},
                       headers=bearer(tokens["guide"])).status_code == 403
    response = client.post(f"/api/v1/cases/{case['id']}/send-back",
                           json={"note": "Inte vårt område."},
                           headers=bearer(tokens["department"]))
    assert response.status_code == 200, response.get_json()
    back = response.get_json()
    assert back["status"] == "open" and back["department"] is None and back["queue"] == "epost"
    forwarding = session.scalar(select(CaseForwarding).where(
        CaseForwarding.case_id == uuid.UUID(back["id"])))
    assert forwarding.returned_at is not None
    assert session.get(Case, forwarding.case_id).waiting_since is not None
    # Returned cases are no longer the department's to see.
    assert client.get(f"/api/v1/cases/{case['id']}",
                      headers=bearer(tokens["department"])).status_code == 404


def test_department_is_told_by_email_and_signed_webhook_with_retries(
        app, client, tokens, session, smtp_inbox, webhook_receiver):
    secret = notifications.set_webhook(session, "stadsbyggnad", webhook_receiver.url,
                                       app.config["SECRET_KEY"])
    case = create_case(client, tokens["guide"], contact={"name": "Karin Ek",
                                                         "email": "karin.ek@example.se"})
    forwarding_id = _forward(client, tokens["guide"], case["id"]).get_json()["id"]
    config = {**app.config, "SMTP_PORT": smtp_inbox.port}
    with pytest.raises(notifications.NotificationFailed):
        notifications.notify_department(session, forwarding_id, config)  # the hook fails once
    assert len(smtp_inbox.messages) == 1
    assert notifications.notify_department(session, forwarding_id, config) is True
    assert len(smtp_inbox.messages) == 1  # the e-mail is not sent again
    recipients, mail = smtp_inbox.messages[0]
    assert recipients == ["stadsbyggnad@lund.example"] and case["reference"] in mail
    assert len(webhook_receiver.requests) == 2
    ids = {headers["webhook-id"] for headers, _ in webhook_receiver.requests}
    assert ids == {f"fwd_{forwarding_id}"}  # the same id on every attempt
    headers, body = webhook_receiver.requests[-1]
    signatures.verify([secret], headers["webhook-id"], headers["webhook-timestamp"],
                      headers["webhook-signature"], body)
    payload = json.loads(body)
    assert payload["type"] == "case.forwarded"
    assert payload["data"]["reference"] == case["reference"]
    assert "karin" not in body.decode().lower()  # ids and times only
    forwarding = session.get(CaseForwarding, forwarding_id)
    assert forwarding.email_sent_at and forwarding.webhook_delivered_at
    assert forwarding.notify_attempts == 2
    department = session.scalar(select(Department).where(Department.slug == "stadsbyggnad"))
    assert secret not in (department.webhook_secret_encrypted or "")
