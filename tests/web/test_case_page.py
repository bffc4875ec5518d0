"""The case page in a real browser: reply (through a real worker to the SMTP sink), note,
forward, resolve, the SLA ledger on demand, the ETag conflict between two browsers, the
department's 404 and the CSRF check."""

import email
import email.policy
import re
import time
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text, update

from citizencenter import db
from citizencenter.accounts.models import User
from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseStatus, Channel, Direction, Priority
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email import inbound
from citizencenter.routing.models import CaseForwarding
from citizencenter.routing.service import route_case
from tests.channels.email.helpers import citizen_mail
from tests.conftest import running_smtp
from tests.web.conftest import PASSWORD, USERS, assert_accessible, screenshot, sign_in

# What e-mail intake and sending keep, beside the cases `committed` empties.
EMAIL_TABLES = ("acknowledged_senders", "email_attachments", "email_messages")


@pytest.fixture
def committed(committed, engine):
    """`committed`, plus removing what forwarding and e-mail left that refers to cases."""
    yield committed
    committed.remove()
    with engine.begin() as conn:
        for table in ("routing_decisions", "case_forwardings", *EMAIL_TABLES):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def smtp_inbox():
    with running_smtp(lambda envelope: email.message_from_bytes(
            envelope.content, policy=email.policy.default)) as inbox:
        yield inbox


@pytest.fixture
def worker_env(worker_env, smtp_inbox) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_inbox.port),
            "SMTP_TIMEOUT_S": "5"}


def _wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        finally:
            db.session.rollback()  # an open SQLite read holds the write lock
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _open_case(session, **fields) -> uuid.UUID:
    """A committed phone case (no worker needed), its id."""
    case = cases_service.open_case(session, SYSTEM, **{
        "channel": Channel.PHONE, "subject": "Fråga om parkeringstillstånd",
        "description": "Kan jag få parkeringstillstånd för boende på Klostergatan?",
        "category": "gator-trafik",
        "contact": {"name": "Sven Ek", "phone": "070-111 22 33"}, **fields})
    case_id = case.id
    db.session.remove()
    return case_id


def _case(session, case_id) -> Case:
    case = session.get(Case, case_id, populate_existing=True)
    session.expunge(case)
    session.rollback()
    return case


def _summary(page, name: str):
    return page.locator("#case-summary div", has=page.get_by_text(name, exact=True)) \
        .locator("dd")


@pytest.mark.worker
def test_a_reply_to_an_email_case_reaches_the_citizen_threaded_and_turns_sent(
        app, committed, live_server, guide_page, start_celery, smtp_inbox):
    outcome = inbound.receive(committed, citizen_mail(
        "Bygglov för friggebod", "Hej! Behöver jag bygglov för en friggebod på 15 m²?",
        message_id="case-page-1@mail.example.se"), app.config)
    case_id, reference = outcome.case.id, outcome.case.reference
    db.session.remove()
    start_celery("worker")
    start_celery("beat")  # relays the outbox, as in production
    # The receipt went out and routing placed the case before the guide opens it.
    _wait_until(lambda: len(smtp_inbox.messages) >= 1, 30, "the receipt")
    _wait_until(lambda: committed.scalar(select(Case.routed_at).where(Case.id == case_id)),
                30, "routing")

    page = guide_page
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    assert page.locator("html").get_attribute("lang") == "sv"
    main = page.get_by_role("main")
    expect(main.get_by_text("Hej! Behöver jag bygglov för en friggebod")).to_be_visible()
    expect(main.get_by_text("Från medborgaren")).to_be_visible()
    expect(_summary(page, "Kanal")).to_have_text("E-post")
    expect(page.locator("#contact-heading")).to_be_visible()
    expect(main.get_by_text("karin.ek@example.se")).to_be_visible()
    # The SLA clocks the worker started, and on demand the ledger lines behind them.
    expect(page.locator("#sla-timers")).to_contain_text("Första svar")
    page.get_by_text("Visa händelserna bakom tiderna").click()
    expect(page.locator("#sla-ledger")).to_contain_text("startad")
    # The shortcut is documented next to the box.
    expect(page.get_by_text("Ctrl+Enter")).to_be_visible()
    assert_accessible(page)

    # Written and sent with the keyboard shortcut.
    reply = page.get_by_label("Svar", exact=True)
    reply.fill("Hej Karin! En friggebod på 15 m² behöver inget bygglov.")
    reply.press("Control+Enter")
    expect(page.locator("#reply-feedback")).to_contain_text("Svaret är sparat")
    expect(reply).to_have_value("")  # saved, so the box is empty for the next answer
    sent = page.get_by_role("listitem").filter(has_text="behöver inget bygglov")
    expect(sent).to_contain_text("Svar till medborgaren")
    # The page follows the delivery state without a reload until it is final.
    expect(sent.locator(".delivery")).to_contain_text("Skickat", timeout=30_000)

    mails = _wait_until(lambda: [m for m in smtp_inbox.messages
                                 if "behöver inget bygglov" in m.get_body().get_content()],
                        30, "the reply at the SMTP sink")
    mail = mails[0]
    assert mail["To"].addresses[0].addr_spec == "karin.ek@example.se"
    assert mail["In-Reply-To"] == "<case-page-1@mail.example.se>"
    assert "<case-page-1@mail.example.se>" in mail["References"]
    assert reference in mail["Subject"]
    screenshot(page, "case-page-email")

    # Opening the page is audited as a read of the case, naming the page.
    reads = committed.scalars(select(AuditEntry).where(
        AuditEntry.action == "case.read", AuditEntry.entity_id == str(case_id))).all()
    assert any(r.data.get("view") == "page" for r in reads)
    db.session.rollback()


def test_a_note_is_saved_and_shown_as_internal(committed, live_server, guide_page):
    case_id = _open_case(committed)
    page = guide_page
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Intern anteckning").fill("Ringde tillbaka, lämnade meddelande.")
    page.get_by_role("button", name="Spara anteckning").click()
    expect(page.locator("#note-feedback")).to_contain_text("Anteckningen är sparad")
    note = page.locator("#conversation li").filter(has_text="Ringde tillbaka")
    expect(note).to_contain_text("Intern anteckning – syns inte för medborgaren")
    expect(note).to_have_class(re.compile("message-internal"))
    assert_accessible(page)
    screenshot(page, "case-page-note")
    # Usable 320 px wide: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    expect(page.get_by_role("button", name="Skicka svar")).to_be_visible()
    screenshot(page, "case-page-320")

    stored = committed.scalars(select(Message).where(Message.case_id == case_id)
                               .order_by(Message.id)).all()
    assert [(m.direction, m.body) for m in stored][-1] == (
        Direction.INTERNAL, "Ringde tillbaka, lämnade meddelande.")
    db.session.rollback()


def test_forward_to_a_department_with_a_note(committed, live_server, guide_page):
    case_id = _open_case(committed)
    page = guide_page
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Avdelning", exact=True).select_option(label="Stadsbyggnadskontoret")
    page.get_by_label("Anteckning till avdelningen").fill("Gäller detaljplanen, ert område.")
    page.get_by_role("button", name="Vidarebefordra").click()
    expect(page.locator("#forward-feedback")).to_contain_text("vidarebefordrat")
    expect(_summary(page, "Status")).to_have_text("Vidarebefordrad")
    expect(_summary(page, "Avdelning")).to_have_text("Stadsbyggnadskontoret")
    expect(page.locator("#conversation")).to_contain_text("Gäller detaljplanen")
    expect(page.get_by_label("Anteckning till avdelningen")).to_have_value("")

    case = _case(committed, case_id)
    assert case.status == CaseStatus.FORWARDED and case.department.slug == "stadsbyggnad"
    forwarding = committed.scalar(select(CaseForwarding).where(CaseForwarding.case_id == case_id))
    note = committed.get(Message, forwarding.note_message_id)
    assert note.direction == Direction.INTERNAL and note.body == "Gäller detaljplanen, ert område."
    db.session.rollback()


def test_a_guide_puts_a_case_back_in_its_queue(committed, live_server, guide_page):
    case_id = _open_case(committed)
    route_case(committed, case_id)  # placed in its queue, waiting
    anna = committed.scalar(select(User.id).where(User.email == USERS["guide"][0]))
    committed.execute(update(Case).where(Case.id == case_id)
                      .values(assignee_id=anna, waiting_since=None))  # as routing gives it
    committed.commit()
    page = guide_page
    page.goto(f"/cases/{case_id}")
    expect(_summary(page, "Handläggare")).to_have_text(USERS["guide"][1])
    screenshot(page, "case-page-assigned")
    page.get_by_role("button", name="Lägg tillbaka i kön").click()
    expect(page.locator("#release-feedback")).to_contain_text("ligger i kön igen")
    expect(_summary(page, "Handläggare")).to_have_text("Ingen tilldelad")
    expect(page.get_by_role("button", name="Lägg tillbaka i kön")).to_have_count(0)
    assert_accessible(page)
    case = _case(committed, case_id)
    assert case.assignee_id is None and case.waiting_since is not None  # routing sees it


def test_resolve_at_first_contact(committed, live_server, guide_page):
    case_id = _open_case(committed)
    page = guide_page
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Löst vid första kontakten").check()
    page.get_by_role("button", name="Avsluta", exact=True).click()
    expect(page.locator("#resolve-feedback")).to_contain_text("avslutat som löst")
    expect(_summary(page, "Status")).to_have_text("Löst")
    expect(_summary(page, "Löst vid första kontakten")).to_have_text("Ja")

    case = _case(committed, case_id)
    assert case.status == CaseStatus.RESOLVED and case.resolved_at is not None
    assert case.resolved_at_first_contact is True  # the first-contact figure counts it


def test_a_change_made_meanwhile_is_shown_and_the_typed_reply_kept(committed, live_server,
                                                                   new_page):
    case_id = _open_case(committed)
    first, second = sign_in(new_page(), "guide"), sign_in(new_page(), "supervisor")
    first.goto(f"/cases/{case_id}")
    second.goto(f"/cases/{case_id}")
    second.get_by_label("Svar", exact=True).fill("Hej Sven, du kan ansöka i e-tjänsten.")

    first.get_by_label("Prioritet", exact=True).select_option(label="Hög")
    first.get_by_role("button", name="Spara prioritet").click()
    expect(first.locator("#priority-feedback")).to_contain_text("Prioriteten är sparad")

    second.get_by_label("Ärendestatus").select_option(label="Väntar på medborgaren")
    second.get_by_role("button", name="Spara status").click()
    alert = second.locator("#status-feedback").get_by_role("alert")
    expect(alert).to_contain_text("Någon annan ändrade ärendet")
    expect(second.locator("#status-feedback")).to_contain_text("prioritet Hög")
    expect(_summary(second, "Prioritet")).to_have_text("Hög")  # the new state
    expect(_summary(second, "Status")).to_have_text("Ny")
    # Nothing the guide typed or chose is lost.
    expect(second.get_by_label("Svar", exact=True)).to_have_value(
        "Hej Sven, du kan ansöka i e-tjänsten.")
    expect(second.get_by_label("Ärendestatus")).to_have_value("waiting_on_citizen")
    assert_accessible(second)
    screenshot(second, "case-page-conflict")
    case = _case(committed, case_id)
    assert (case.priority, case.status) == (Priority.HIGH, CaseStatus.NEW)

    # Saved again on the new version, it goes through and keeps the other's priority.
    second.get_by_role("button", name="Spara status").click()
    expect(second.locator("#status-feedback")).to_contain_text("Statusen är sparad")
    case = _case(committed, case_id)
    assert (case.priority, case.status) == (Priority.HIGH, CaseStatus.WAITING_ON_CITIZEN)


def test_department_staff_get_404_for_another_departments_case(committed, live_server,
                                                               department_page):
    case_id = _open_case(committed)
    response = department_page.goto(f"/cases/{case_id}")
    assert response.status == 404
    expect(department_page.get_by_role("main")).to_contain_text("finns inte")
    assert "Fråga om parkeringstillstånd" not in department_page.content()
    reads = committed.scalars(select(AuditEntry).where(
        AuditEntry.action == "case.read", AuditEntry.entity_id == str(case_id))).all()
    assert reads == []  # a case the caller may not see leaves no read behind
    db.session.rollback()


def test_a_post_without_the_csrf_token_is_refused(committed, live_server, guide_page):
    case_id = _open_case(committed)
    guide_page.goto(f"/cases/{case_id}")
    version = guide_page.locator("#priority-version").get_attribute("value")
    response = guide_page.request.post(live_server(f"/cases/{case_id}/priority"),
                                       form={"priority": "urgent", "version": version})
    assert response.status == 403
    assert _case(committed, case_id).priority == Priority.NORMAL


def test_a_guide_changes_priority_and_category_without_script(committed, live_server,
                                                              browser):
    """Progressive enhancement: the forms work as plain posts too."""
    case_id = _open_case(committed)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("E-post").fill(USERS["guide"][0])
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.goto(f"/cases/{case_id}")
        page.get_by_label("Kategori", exact=True).select_option(label="Bygglov och bygganmälan")
        page.get_by_role("button", name="Spara kategori").click()
        # The notice, not the knowledge panel's live region (hidden while empty by its CSS).
        expect(page.get_by_role("status").filter(has_text="Kategorin är sparad")).to_be_visible()
        expect(_summary(page, "Kategori")).to_have_text("Bygglov och bygganmälan")
        page.get_by_text("Visa händelserna bakom tiderna").click()
        page.get_by_role("link", name="Öppna händelserna").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Tidsgränsernas händelser")
    finally:
        context.close()
    assert _case(committed, case_id).category.slug == "bygglov"
