"""Forwarding to a department: its queue and clock, the e-mail and signed webhook, send-back."""

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from citizencenter.accounts.models import Department
from citizencenter.cases.models import Case, Message
from citizencenter.integrations import signatures
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import notifications
from citizencenter.routing.models import CaseForwarding, GuideProfile, Presence
from citizencenter.sla import service as sla_service
from citizencenter.sla.models import SlaTimer
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


def _department_timer(session, case_id: str) -> SlaTimer:
    return session.scalar(select(SlaTimer).where(
        SlaTimer.case_id == uuid.UUID(case_id), SlaTimer.metric == "department_resolution"))


def test_the_department_is_told_the_time_the_sla_scan_watches(client, tokens, session):
    # The supervisor sets the department target; the next forward promises exactly that.
    policy = client.patch("/api/v1/sla/policies/forvaltning-avslut", headers=bearer(
        tokens["supervisor"]), json={"target_value": 3, "target_unit": "working_days"})
    assert policy.status_code == 200, policy.get_json()
    case = create_case(client, tokens["guide"])
    body = _forward(client, tokens["guide"], case["id"]).get_json()
    timer = _department_timer(session, case["id"])
    assert timer.target_value == 3
    forwarding = session.get(CaseForwarding, body["id"])
    assert forwarding.department_due_at == timer.due_at
    assert datetime.fromisoformat(body["department_due_at"]) == timer.due_at
    mail = notifications._email(session.get(Case, uuid.UUID(case["id"])), forwarding,
                                forwarding.department, {"MAIL_FROM": "mc@lund.example"})
    assert f"Svara senast: {timer.due_at:%Y-%m-%d %H:%M} UTC" in mail.get_content()
    # Not answered by then: the deadline scan breaches that very time.
    sla_service.scan_deadlines(session, now=forwarding.department_due_at + timedelta(seconds=1))
    session.expire_all()
    breached = _department_timer(session, case["id"])
    assert breached.breached_at == forwarding.department_due_at


def test_without_a_department_policy_no_due_time_is_promised(client, tokens, session):
    assert client.patch("/api/v1/sla/policies/forvaltning-avslut", json={"active": False},
                        headers=bearer(tokens["supervisor"])).status_code == 200
    case = create_case(client, tokens["guide"])
    body = _forward(client, tokens["guide"], case["id"]).get_json()
    assert body["department_due_at"] is None and _department_timer(session, case["id"]) is None
    forwarding = session.get(CaseForwarding, body["id"])
    mail = notifications._email(session.get(Case, uuid.UUID(case["id"])), forwarding,
                                forwarding.department, {"MAIL_FROM": "mc@lund.example"})
    assert "Svara senast" not in mail.get_content()
