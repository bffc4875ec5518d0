"""The citizen opens the link of a real acknowledgement e-mail (sent to an SMTP server on
loopback), reads the status and a reply sent to them, never an internal note, and writes
a message that lands on the case, as the staff API shows."""

import email
import email.policy
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text

from citizencenter import db
from citizencenter.accounts import service as accounts
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Direction
from citizencenter.channels.email import outbound
from citizencenter.channels.webform import service as webform
from tests.conftest import running_smtp
from tests.factories import bearer
from tests.web.conftest import assert_accessible, other_origins, record_requests, screenshot


@pytest.fixture
def committed(committed, engine):
    """`committed`, plus what sending e-mail left that refers to cases."""
    yield committed
    committed.remove()
    with engine.begin() as conn:
        for table in ("routing_decisions", "acknowledged_senders", "email_messages"):
            conn.execute(text(f"DELETE FROM {table}"))


def test_the_citizen_follows_and_adds_to_their_case_from_the_acknowledgement(
        app, committed, live_server, page):
    address = f"karin.{uuid.uuid4().hex[:8]}@example.se"
    case = webform.submit_inquiry(committed, category="bygglov", subject="Plank mot gatan",
                                  message="Behövs bygglov för ett plank?", name="Karin Ek",
                                  email=address)
    case_id, reference = case.id, case.reference
    with running_smtp(lambda envelope: email.message_from_bytes(
            envelope.content, policy=email.policy.default)) as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port,
                  "PUBLIC_BASE_URL": live_server.url}
        assert outbound.send_acknowledgement(committed, case_id, config) == "sent"
        reply = cases.add_message(committed, SYSTEM, case_id, direction=Direction.OUTBOUND,
                                  body="Plank under 1,8 meter behöver inget bygglov.")
        assert outbound.send_reply(committed, reply.id, config) == "sent"
    cases.add_message(committed, SYSTEM, case_id, direction=Direction.INTERNAL,
                      body="Intern anteckning: kolla detaljplanen.")
    _, token = accounts.create_token(committed, f"citizen view {uuid.uuid4().hex[:6]}",
                                     user_email="anna.lindqvist@lund.example")
    db.session.remove()  # an open SQLite read holds the write lock

    acknowledgement = smtp.messages[0]
    assert acknowledgement["To"].addresses[0].addr_spec == address
    link = re.search(r"http://\S+/mitt-arende/\S+",
                     acknowledgement.get_body(("plain",)).get_content()).group(0)

    urls = record_requests(page)
    page.goto(link)
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ditt ärende {reference}")
    expect(main).to_contain_text("Vi handlägger ditt ärende")
    expect(main).to_contain_text("Plank under 1,8 meter behöver inget bygglov.")
    expect(main).not_to_contain_text("Intern anteckning")
    expect(main).not_to_contain_text("Anna Lindqvist")
    assert_accessible(page)
    screenshot(page, "citizen-view")

    page.get_by_label("Ditt meddelande").fill("Tack! Gäller det även en mur?")
    page.get_by_role("button", name="Skicka meddelandet").click()
    expect(page.get_by_role("status")).to_contain_text("Ditt meddelande har kommit fram")
    expect(main).to_contain_text("Tack! Gäller det även en mur?")
    assert_accessible(page)
    assert other_origins(urls, live_server.url) == []

    messages = page.request.get(live_server(f"/api/v1/cases/{case_id}/messages"),
                                headers=bearer(token)).json()["items"]
    inbound = [m for m in messages if m["direction"] == "inbound"]
    assert inbound[-1]["body"] == "Tack! Gäller det även en mur?"
    assert link.rsplit("/", 1)[1] not in live_server.process.output()


def test_a_refused_link_is_a_clear_swedish_page(live_server, page):
    response = page.goto("/mitt-arende/inte-en-riktig-token")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Länken fungerar inte")
    assert_accessible(page)


def test_a_guide_revokes_the_citizens_links_from_the_case_page(app, committed, live_server,
                                                               guide_page, new_page):
    """A receipt that went to the wrong person: the guide spärrar its links on the case
    page; the link the receipt held is then refused with a clear page, and the revocation is
    audited under the guide's name."""
    from citizencenter.audit.models import AuditEntry
    from citizencenter.citizen_view import links

    case = webform.submit_inquiry(committed, category="bygglov", subject="Fel mottagare",
                                  message="Kvittensen gick fel.", name="Olle Ek",
                                  email=f"olle.{uuid.uuid4().hex[:8]}@example.se")
    case_id = case.id
    link = links.link_for_case({**app.config, "PUBLIC_BASE_URL": live_server.url}, case_id)
    committed.commit()
    db.session.remove()  # an open SQLite read holds the write lock
    citizen = new_page()
    assert citizen.goto(link).status == 200

    page = guide_page
    page.goto(f"/cases/{case_id}")
    status = page.locator("#citizen-links-status")
    expect(status).to_have_text("Länkarna fungerar.")
    page.get_by_role("button", name="Spärra länkarna").click()
    expect(page.get_by_role("status").filter(has_text="Länkarna är spärrade.")).to_be_visible()
    expect(status).to_contain_text("är spärrade")
    assert_accessible(page)

    refused = citizen.goto(link)
    assert refused.status == 410
    expect(citizen.get_by_role("heading", level=1)).to_have_text(
        "Länken kan inte användas längre")
    entries = committed.scalars(select(AuditEntry).where(
        AuditEntry.entity_id == str(case_id),
        AuditEntry.action == "case.citizen_link_revoked")).all()
    committed.rollback()
    assert len(entries) == 1 and entries[0].actor != "system"
