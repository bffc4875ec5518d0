"""Integrations for administrators through the API: the list with signature failures and
last deliveries, registering one, rotating its secret with a grace period (a fixed clock),
and a department webhook's signed test event through the outbox."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.audit.models import AuditEntry
from citizencenter.integrations import service as integrations
from citizencenter.integrations import signatures
from citizencenter.integrations.models import DepartmentWebhookTest, Integration
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import notifications, webhooks
from tests.channels.phone.helpers import CALLS_URL, post_events, signed_headers
from tests.factories import bearer

URL = "/api/v1/integrations"


def call(n: str, kind: str = "call.queued") -> dict:
    return {"event_id": f"adm-{n}", "source": "pbx", "type": kind,
            "occurred_at": "2026-11-18T09:00:00+01:00", "sequence": 1, "call_id": f"adm-{n}",
            "queue": "kontaktcenter", "caller": None, "metrics": {}, "raw": {}}


def _listed(client, tokens, name: str) -> dict:
    response = client.get(URL, headers=bearer(tokens["admin"]))
    assert response.status_code == 200
    return next(i for i in response.get_json() if i["name"] == name)


def test_only_administrators_see_and_change_integrations(client, tokens, phone_integration):
    for role in ("guide", "supervisor", "department", "integration"):
        assert client.get(URL, headers=bearer(tokens[role])).status_code == 403
        refused = client.post(f"{URL}/växeln/rotate", headers=bearer(tokens[role]))
        assert refused.status_code == 403
        assert refused.content_type == "application/problem+json"
    assert client.get(URL).status_code == 401


def test_register_an_integration_and_refuse_bad_input(client, session, tokens):
    name = f"kartsystemet-{uuid.uuid4().hex[:6]}"
    created = client.post(URL, json={"name": name, "scopes": ["calls:write"]},
                          headers=bearer(tokens["admin"]))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and body["token"]
    assert accounts.authenticate(session, body["token"]).has_scope("calls:write")
    listed = _listed(client, tokens, name)
    assert listed["scopes"] == ["calls:write"] and listed["signature_failures"] == 0
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "integration.created")
                           .order_by(AuditEntry.id.desc()))
    assert entry.actor.startswith("token:") and entry.data["new"]["name"] == name
    assert body["secret"] not in json.dumps(entry.data)
    for bad, field in (({"name": name, "scopes": ["calls:write"]}, "name"),
                       ({"name": name + "-2", "scopes": ["*"]}, "scopes"),
                       ({"name": name + "-3", "scopes": []}, "scopes"),
                       ({"name": "", "scopes": ["calls:write"]}, "name")):
        refused = client.post(URL, json=bad, headers=bearer(tokens["admin"]))
        assert refused.status_code == 422, bad
        assert refused.content_type == "application/problem+json"
        assert field in [e["field"] for e in refused.get_json()["errors"]]


def test_rotation_through_the_api_signs_the_next_event_and_is_audited(
        app, client, session, tokens, phone_integration):
    token, old = phone_integration
    rotated = client.post(f"{URL}/växeln/rotate", headers=bearer(tokens["admin"]))
    assert rotated.status_code == 200, rotated.get_json()
    new = rotated.get_json()["secret"]
    until = datetime.fromisoformat(rotated.get_json()["previous_valid_until"])
    grace = app.config["INTEGRATION_SECRET_GRACE_S"]
    assert timedelta(seconds=grace - 600) < until - datetime.now(UTC) <= timedelta(seconds=grace)
    assert post_events(client, (token, new), call("r1")).status_code == 202
    assert post_events(client, (token, old), call("r2")).status_code == 202  # within grace
    listed = _listed(client, tokens, "växeln")
    assert listed["previous_secret_valid_until"] and listed["rotated_at"]
    assert listed["last_event_at"] and listed["deliveries"][0]["event_type"] == "call.queued"
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "integration.secret_rotated").order_by(AuditEntry.id.desc()))
    assert entry.actor.startswith("token:")
    assert new not in json.dumps(entry.data) and old not in json.dumps(entry.data)
    missing = client.post(f"{URL}/no-such-system/rotate", headers=bearer(tokens["admin"]))
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"


def test_the_old_secret_is_refused_after_the_grace_period(app, session, phone_integration):
    token, old = phone_integration
    keys_ = app.config["SECRET_KEY"]
    principal = accounts.authenticate(session, token)
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    new = integrations.rotate_secret(session, "växeln", keys_, grace_s=3600, now=t0)
    body = b"[]"

    def deliver(secret: str, at: datetime):
        stamp = int(at.timestamp())
        webhook_id = f"msg_{time.monotonic_ns()}"
        return integrations.accept_delivery(
            session, principal, keys_, webhook_id, str(stamp),
            signatures.sign(secret, webhook_id, stamp, body), body, now=at)

    assert deliver(old, t0 + timedelta(minutes=59)).replayed is False  # within the hour
    assert deliver(new, t0 + timedelta(minutes=59)).replayed is False
    with pytest.raises(signatures.SignatureInvalid):
        deliver(old, t0 + timedelta(hours=1))  # the grace period is over
    assert deliver(new, t0 + timedelta(hours=1, seconds=1)).replayed is False
    row = session.scalar(select(Integration).where(Integration.name == "växeln"))
    assert row.signature_failures == 1
    assert row.last_signature_failure_at == t0 + timedelta(hours=1)


def test_signature_failures_are_counted_without_the_body(client, session, tokens,
                                                         phone_integration):
    token, secret = phone_integration
    body = json.dumps(call("f1")).encode()
    forged = {**signed_headers(token, secret, body, "application/json"),
              "webhook-signature": "v1," + "A" * 44}
    assert client.post(f"{CALLS_URL}/events", data=body, headers=forged).status_code == 403
    unsigned = {k: v for k, v in forged.items() if k != "webhook-signature"}
    assert client.post(f"{CALLS_URL}/events", data=body, headers=unsigned).status_code == 401
    listed = _listed(client, tokens, "växeln")
    assert listed["signature_failures"] == 2
    assert listed["last_signature_failure"] == "signature-missing"
    assert listed["last_signature_failure_at"] and listed["last_event_at"] is None
    row = session.scalar(select(Integration).where(Integration.name == "växeln"))
    assert "adm-f1" not in json.dumps({c.name: str(getattr(row, c.name))
                                       for c in Integration.__table__.columns})


@pytest.fixture
def department_hook(app, session):
    from tests.routing.conftest import WebhookReceiver

    receiver = WebhookReceiver().start()
    secret = notifications.set_webhook(session, "stadsbyggnad", receiver.url,
                                       app.config["SECRET_KEY"])
    yield receiver, secret
    receiver.stop()


def test_a_department_webhook_test_goes_through_the_outbox_signed(
        app, client, session, tokens, department_hook):
    receiver, secret = department_hook
    url = "/api/v1/departments/stadsbyggnad/webhook/test"
    assert client.post(url, headers=bearer(tokens["supervisor"])).status_code == 403
    asked = client.post(url, headers=bearer(tokens["admin"]))
    assert asked.status_code == 202, asked.get_json()
    test_id = asked.get_json()["id"]
    message = session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == webhooks.TEST_TOPIC).order_by(OutboxMessage.id.desc()))
    assert message.payload == {"test_id": test_id}
    assert webhooks.deliver_test(session, test_id, app.config) is True  # what the task runs
    headers, body = receiver.requests[-1]
    signatures.verify([secret], headers["webhook-id"], headers["webhook-timestamp"],
                      headers["webhook-signature"], body)
    assert json.loads(body)["type"] == "webhook.test"
    assert session.get(DepartmentWebhookTest, test_id).attempts == 1
    listed = client.get("/api/v1/departments/webhooks", headers=bearer(tokens["admin"]))
    hook = next(h for h in listed.get_json() if h["slug"] == "stadsbyggnad")
    assert hook["url"] == receiver.url
    assert hook["deliveries"][0]["kind"] == "test"
    assert hook["deliveries"][0]["status"] == "delivered"
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "department.webhook_tested").order_by(AuditEntry.id.desc()))
    assert entry.data["new"] == {"test_id": test_id}
    no_hook = client.post("/api/v1/departments/no-such/webhook/test",
                          headers=bearer(tokens["admin"]))
    assert no_hook.status_code == 404


def test_a_failed_test_delivery_is_kept_and_retried(app, client, session, tokens):
    from tests.routing.conftest import WebhookReceiver

    receiver = WebhookReceiver(fail_first=1).start()
    try:
        notifications.set_webhook(session, "stadsbyggnad", receiver.url,
                                  app.config["SECRET_KEY"])
        test = webhooks.request_test(session, accounts.SYSTEM, "stadsbyggnad")
        with pytest.raises(notifications.NotificationFailed):
            webhooks.deliver_test(session, test.id, app.config)
        hook = next(h for h in webhooks.webhook_overview(session, accounts.SYSTEM)
                    if h.slug == "stadsbyggnad")
        assert (hook.deliveries[0].status, hook.deliveries[0].attempts) == ("failed", 1)
        assert webhooks.deliver_test(session, test.id, app.config) is True
        assert webhooks.deliver_test(session, test.id, app.config) is False  # done already
        assert len(receiver.requests) == 2
    finally:
        receiver.stop()
