"""/admin/integrations in a real browser: an administrator rotates an integration's signing
secret (the new one signs the next call event, the old one holds for the grace period), sees
signature failures and when its token was last used or revoked, sends a signed test event to
a department's webhook through the outbox and a worker, and re-processes a quarantined e-mail
into a case; guides and supervisors are refused."""

import json
import re
import uuid

import pytest
import redis
from sqlalchemy import select, text

from citizencenter.accounts import service as accounts
from citizencenter.accounts import token_uses
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case
from citizencenter.channels.email import quarantine
from citizencenter.channels.email.models import QuarantinedEmail
from citizencenter.db import is_postgresql
from citizencenter.integrations import service as integrations
from citizencenter.integrations import signatures
from citizencenter.integrations.models import DepartmentWebhookTest
from citizencenter.routing import notifications
from citizencenter.web.texts import t
from tests.channels.email.helpers import citizen_mail
from tests.channels.phone.helpers import signed_headers
from tests.factories import bearer
from tests.routing.conftest import WebhookReceiver
from tests.web.conftest import assert_accessible, screenshot, sign_in

ADMIN = "admin@lund.example"
PAGE = "/admin/integrations"
EVENTS = "/api/v1/integrations/calls/events"


@pytest.fixture
def admin_token(committed):
    token = accounts.create_token(committed, f"test admin {uuid.uuid4().hex[:6]}",
                                  role="admin")[1]
    return token


def _admin_actor(session) -> str:
    return f"user:{session.scalar(select(User.id).where(User.email == ADMIN))}"


def _post_event(page, live_server, token, secret, n):
    body = json.dumps({"event_id": f"web-{n}", "source": "pbx", "type": "call.queued",
                       "occurred_at": "2026-11-18T09:00:00+01:00", "sequence": 1,
                       "call_id": f"web-{n}", "queue": "kontaktcenter", "caller": None,
                       "metrics": {}, "raw": {}}).encode()
    return page.request.post(live_server(EVENTS), data=body,
                             headers=signed_headers(token, secret, body, "application/json"))


def test_a_secret_rotated_on_the_page_signs_the_next_event(app, admin_page, live_server,
                                                           committed, admin_token,
                                                           redis_server):
    page = admin_page
    name = f"växel-{uuid.uuid4().hex[:8]}"
    integration, token, old = integrations.create_integration(
        committed, name, ["calls:write"], app.config["SECRET_KEY"])
    integration_id = integration.id
    committed.rollback()

    page.goto(PAGE)
    expect_heading(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    assert "Inga" in row.inner_text() and "Inte använd" in row.inner_text()
    row.get_by_role("button", name=f"Byt hemlighet {name}").click()
    new = page.get_by_label("Ny hemlighet").input_value()
    assert new.startswith("whsec_") and new != old
    assert "godtas till" in page.get_by_role("status").first.inner_text()

    id_ = uuid.uuid4().hex[:8]
    assert _post_event(page, live_server, token, new, f"{id_}-1").status == 202
    assert _post_event(page, live_server, token, old, f"{id_}-2").status == 202  # grace
    forged = _post_event(page, live_server, token, signatures.new_secret(), f"{id_}-3")
    assert forged.status == 403

    with redis.Redis.from_url(redis_server.url, decode_responses=True) as notes:
        token_uses.record(committed, notes)  # the beat task's work: the token's use is kept
    listed = page.request.get(live_server("/api/v1/integrations"),
                              headers=bearer(admin_token)).json()
    mine = next(i for i in listed if i["name"] == name)
    assert mine["signature_failures"] == 1 and mine["previous_secret_valid_until"]
    assert mine["deliveries"][0]["event_type"] == "call.queued"
    assert mine["token_last_used_at"] and mine["token_revoked_at"] is None

    page.goto(PAGE)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    assert re.search(r"1 st, senast .*fel signatur", row.inner_text())
    assert "call.queued" in row.inner_text() and "Den förra gäller till" in row.inner_text()
    assert "Använd " in row.inner_text() and "Inte använd" not in row.inner_text()
    entry = committed.scalar(select(AuditEntry).where(
        AuditEntry.action == "integration.secret_rotated",
        AuditEntry.entity_id == str(integration_id)))
    assert entry.actor == _admin_actor(committed)
    assert new not in json.dumps(entry.data)
    committed.rollback()
    assert_accessible(page)
    screenshot(page, "admin-integrations")

    # A revoked token shows on its integration's row: the system's calls are refused now.
    accounts.revoke_tokens_named(committed, f"integration {name}")
    assert _post_event(page, live_server, token, new, f"{id_}-4").status == 401
    page.reload()
    assert "Återkallad " in row.inner_text()
    listed = page.request.get(live_server("/api/v1/integrations"),
                              headers=bearer(admin_token)).json()
    assert next(i for i in listed if i["name"] == name)["token_revoked_at"]


def test_a_new_integration_is_created_with_its_scopes_and_bad_input_is_explained(
        admin_page, committed):
    page = admin_page
    page.goto(PAGE)
    page.get_by_label("Namn", exact=True).fill("")
    page.get_by_label("Behörigheter", exact=True).fill("calls:write")
    page.get_by_role("button", name="Skapa integration").click()
    assert page.get_by_role("alert").is_visible()
    name_field = page.get_by_label("Namn", exact=True)
    assert name_field.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Behörigheter", exact=True).input_value() == "calls:write"
    assert_accessible(page)

    name = f"kartsystem-{uuid.uuid4().hex[:8]}"
    name_field.fill(name)
    page.get_by_role("button", name="Skapa integration").click()
    token = page.get_by_label("Token", exact=True).input_value()
    assert page.get_by_label("Signeringshemlighet", exact=True).input_value().startswith(
        "whsec_")
    assert accounts.authenticate(committed, token).scopes == frozenset({"calls:write"})
    entry = committed.scalar(select(AuditEntry).where(
        AuditEntry.action == "integration.created").order_by(AuditEntry.id.desc()))
    assert entry.actor == _admin_actor(committed) and entry.data["new"]["name"] == name
    committed.rollback()


def test_send_test_reaches_the_departments_server_signed(app, admin_page, committed,
                                                         start_celery, admin_token,
                                                         live_server):
    page = admin_page
    receiver = WebhookReceiver().start()
    secret = notifications.set_webhook(committed, "stadsbyggnad", receiver.url,
                                       app.config["SECRET_KEY"])
    try:
        start_celery("worker")
        start_celery("beat")  # relays the outbox, as in production
        page.goto(PAGE)
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader",
                                                                  name="Stadsbyggnadskontoret"))
        row.get_by_role("button", name=re.compile("^Skicka test")).click()
        assert "Testhändelsen" in page.get_by_role("status").first.inner_text()
        for _ in range(120):
            if receiver.requests:
                break
            page.wait_for_timeout(500)
        headers, body = receiver.requests[-1]
        signatures.verify([secret], headers["webhook-id"], headers["webhook-timestamp"],
                          headers["webhook-signature"], body)
        test_id = json.loads(body)["data"]["test_id"]
        assert headers["webhook-id"] == f"test_{test_id}"
        for _ in range(60):
            committed.rollback()
            if committed.get(DepartmentWebhookTest, test_id).delivered_at:
                break
            page.wait_for_timeout(500)
        hooks = page.request.get(live_server("/api/v1/departments/webhooks"),
                                 headers=bearer(admin_token)).json()
        hook = next(h for h in hooks if h["slug"] == "stadsbyggnad")
        assert hook["deliveries"][0]["status"] == "delivered"
        page.goto(PAGE)
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader",
                                                                  name="Stadsbyggnadskontoret"))
        assert "testhändelse, levererad, 1 försök" in row.inner_text()
        entry = committed.scalar(select(AuditEntry).where(
            AuditEntry.action == "department.webhook_tested").order_by(AuditEntry.id.desc()))
        assert entry.actor == _admin_actor(committed)
        assert entry.data["new"] == {"test_id": test_id}
        committed.rollback()
        assert_accessible(page)
    finally:
        committed.rollback()
        notifications.set_webhook(committed, "stadsbyggnad", None, app.config["SECRET_KEY"])
        receiver.stop()


def test_a_quarantined_message_reprocessed_from_the_page_becomes_a_case(
        admin_page, committed, live_server, admin_token):
    page = admin_page
    mail_token = accounts.create_token(committed, "test mail web", scopes=["mail:ingest"])[1]
    postgres = is_postgresql(committed)
    if postgres:
        committed.execute(text(
            "CREATE FUNCTION test_web_refuse_cases() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'closed'; END $$"))
        committed.execute(text("CREATE TRIGGER test_web_refuse_cases BEFORE INSERT ON cases "
                               "FOR EACH ROW EXECUTE FUNCTION test_web_refuse_cases()"))
    else:
        committed.execute(text("CREATE TRIGGER test_web_refuse_cases BEFORE INSERT ON cases "
                               "BEGIN SELECT RAISE(ABORT, 'closed'); END"))
    committed.commit()
    dropped = False
    subject = f"Plank {uuid.uuid4().hex[:6]}"
    try:
        raw = citizen_mail(subject, "Hej! Min granne bygger ett plank.",
                           sender=f"ingrid.{uuid.uuid4().hex[:6]}@example.se")
        posted = page.request.post(live_server("/api/v1/integrations/email/mime"), data=raw,
                                   headers={**bearer(mail_token),
                                            "Content-Type": "message/rfc822"})
        assert posted.status == 202, posted.text()
        quarantine_id = posted.json()["quarantine_id"]
        committed.execute(text("DROP TRIGGER test_web_refuse_cases ON cases" if postgres
                               else "DROP TRIGGER test_web_refuse_cases"))
        if postgres:
            committed.execute(text("DROP FUNCTION test_web_refuse_cases()"))
        committed.commit()
        dropped = True

        page.goto(PAGE)
        retry = page.get_by_role("button", name=f"Behandla igen meddelande {quarantine_id}")
        listed = page.get_by_role("row").filter(has=retry).inner_text()
        assert "fel vid lagringen" in listed and "processing-error" not in listed
        retry.click()
        status = page.get_by_role("status").first
        assert "Det ligger nu på ärendet" in status.inner_text()
        reference = status.get_by_role("link").inner_text()
        row = committed.get(QuarantinedEmail, quarantine_id)
        assert row.stored_at is not None
        case = committed.scalar(select(Case).where(Case.reference == reference))
        assert case.subject == subject
        assert f"/cases/{case.id}" in [link.get_attribute("href") for link in
                                       page.get_by_role("link", name="Öppna ärendet").all()]
        record = page.request.get(live_server(f"/api/v1/email/quarantine/{quarantine_id}"),
                                  headers=bearer(admin_token)).json()
        assert record["stored_at"]
        entry = committed.scalar(select(AuditEntry).where(
            AuditEntry.action == "email.quarantine_retried",
            AuditEntry.entity_id == str(quarantine_id)))
        assert entry.actor == _admin_actor(committed)
        committed.rollback()
        assert_accessible(page)
        screenshot(page, "admin-integrations-quarantine")
    finally:
        if not dropped:
            committed.rollback()
            committed.execute(text("DROP TRIGGER IF EXISTS test_web_refuse_cases ON cases"
                                   if postgres else "DROP TRIGGER IF EXISTS "
                                   "test_web_refuse_cases"))
            committed.commit()


@pytest.mark.parametrize("role", ["guide", "supervisor"])
def test_guides_and_supervisors_are_refused(page, live_server, role, committed):
    sign_in(page, role)
    assert page.goto(PAGE).status == 403
    page.goto("/admin")
    assert page.get_by_role("link", name="Integrationer").count() == 0
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.request.post(live_server(f"{PAGE}/växeln/rotate"),
                                form={"csrf_token": csrf})
    assert refused.status == 403
    refused = page.request.post(live_server(f"{PAGE}/webhooks/stadsbyggnad/test"),
                                form={"csrf_token": csrf})
    assert refused.status == 403


def expect_heading(page):
    assert page.get_by_role("heading", level=1, name="Integrationer").is_visible()


@pytest.mark.parametrize("reason", [quarantine.TOO_LARGE, quarantine.UNPARSEABLE,
                                    quarantine.PROCESSING_ERROR])
def test_every_quarantine_reason_is_named_in_swedish(reason):
    assert t(f"integrations.quarantine.{reason}") != reason
