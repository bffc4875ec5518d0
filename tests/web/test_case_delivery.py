"""The case page names each outgoing message's delivery state in words (queued, sent,
failed with the reason), as sending recorded it at a real SMTP server."""

import uuid

import pytest
from flask import render_template
from playwright.sync_api import expect
from sqlalchemy import text

from citizencenter import db
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel, Direction
from citizencenter.channels.email import outbound
from citizencenter.channels.email.models import EmailKind
from citizencenter.mailer import MailNotSent
from tests.conftest import recipients_and_text, running_smtp
from tests.web.conftest import assert_accessible, screenshot


@pytest.fixture
def committed(committed, engine):
    """`committed`, plus what sending e-mail left that refers to cases."""
    yield committed
    committed.remove()
    with engine.begin() as conn:
        for table in ("routing_decisions", "acknowledged_senders", "email_messages"):
            conn.execute(text(f"DELETE FROM {table}"))


def test_the_case_page_shows_queued_sent_and_failed_with_the_reason(app, committed,
                                                                    live_server, guide_page):
    case = cases.open_case(committed, SYSTEM, channel=Channel.EMAIL, subject="Plank mot gatan",
                           description="Behövs bygglov för ett plank?", category="bygglov",
                           contact={"name": "Karin Ek", "email": "karin.page@example.se"})
    case_id = case.id
    replies = {body: cases.add_message(committed, SYSTEM, case_id, direction=Direction.OUTBOUND,
                                       body=body).id
               for body in ("Svaret väntar.", "Svaret kom fram.", "Svaret nekades.")}
    cases.add_message(committed, SYSTEM, case_id, direction=Direction.INTERNAL,
                      body="En anteckning.")
    with running_smtp(recipients_and_text) as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}
        assert outbound.send_reply(committed, replies["Svaret kom fram."], config) == "sent"
    with running_smtp(recipients_and_text, refuse="554 5.7.1 Message refused") as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}
        with pytest.raises(MailNotSent) as refusal:
            outbound.send_reply(committed, replies["Svaret nekades."], config)
    outbound.give_up(committed, EmailKind.REPLY, replies["Svaret nekades."],
                     f"MailNotSent: {refusal.value}", app.config)
    db.session.remove()  # an open SQLite read holds the write lock

    guide_page.goto(f"/cases/{case_id}")
    conversation = guide_page.get_by_role("main").get_by_role("listitem")

    def delivery_of(body: str):
        return conversation.filter(has_text=body).locator(".delivery")

    expect(delivery_of("Svaret väntar.")).to_have_text("Leverans: I kö för att skickas")
    expect(delivery_of("Svaret kom fram.")).to_have_text("Leverans: Skickat")
    expect(delivery_of("Svaret nekades.")).to_have_text(
        "Leverans: Kunde inte skickas Orsak: MailNotSent: SMTPDataError")
    expect(delivery_of("En anteckning.")).to_have_count(0)
    assert_accessible(guide_page)
    screenshot(guide_page, "case-delivery")


@pytest.mark.parametrize(("asked", "wait_s"), [(0, 1), (4, 1), (5, 2), (10, 4), (15, 8),
                                                (20, 16), (25, 30), (1000, 30)])
def test_a_pending_delivery_is_asked_again_less_and_less_often(app, asked, wait_s):
    """Every second at first, then less often: a page left open while mail is held up does
    not ask every second for hours. A final state is not asked again."""
    from citizencenter.cases.delivery import Delivery
    from citizencenter.workspace.case_view import FINAL_STATES

    def shown(state: str) -> str:
        with app.test_request_context():
            return render_template("workspace/case/_delivery.html", case_id=uuid.UUID(int=1),
                                   message_id=7, state=Delivery(state, "email"),
                                   final=FINAL_STATES, asked=asked)

    pending = shown("queued")
    assert f'hx-trigger="load delay:{wait_s}s"' in pending
    assert f"/messages/7/delivery?asked={asked + 1}" in pending
    assert "hx-get" not in shown("sent") and "hx-trigger" not in shown("failed")
