"""The case page's answer templates in a real browser: pick, preview into the reply box,
send, and the conversation and the stored message say which template answered."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text

from citizencenter import db
from citizencenter.accounts.service import SYSTEM
from citizencenter.answers.models import AnswerTemplate
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Channel, Direction
from citizencenter.cases.models import Case, Message
from tests.web.conftest import assert_accessible, screenshot

BODY = "Hej {{ citizen_name }}!\nDitt ärende har nummer {{ reference }}.\n{{ guide_name }}"


@pytest.fixture
def templates(committed, engine):
    committed.add_all([
        AnswerTemplate(name="Parkering: tack", body=BODY, channel=Channel.PHONE,
                       created_by="test"),
        AnswerTemplate(name="E-post: kvitto", body="Tack!", channel=Channel.EMAIL,
                       created_by="test"),
    ])
    committed.commit()
    db.session.remove()
    yield committed
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM answer_templates"))


def _open_case(session) -> uuid.UUID:
    case = cases_service.open_case(session, SYSTEM, channel=Channel.PHONE,
                                   subject="Fråga om parkeringstillstånd",
                                   description="Kan jag få boendeparkering?",
                                   contact={"name": "Sven Ek", "phone": "070-111 22 33"})
    case_id = case.id
    db.session.remove()
    return case_id


def test_a_template_is_previewed_into_the_reply_and_recorded(templates, live_server,
                                                              guide_page):
    case_id = _open_case(templates)
    page = guide_page
    page.goto(f"/cases/{case_id}")
    picker = page.get_by_label("Svarsmall")
    # Only the templates that fit the case's channel are offered.
    expect(picker.locator("option")).to_have_text(["Parkering: tack"])
    picker.select_option(label="Parkering: tack")
    page.get_by_role("button", name="Förhandsgranska").click()
    reply = page.get_by_label("Svar", exact=True)
    expect(reply).to_have_value("Hej Sven Ek!\nDitt ärende har nummer "
                                f"{_reference(templates, case_id)}.\nAnna Lindqvist")
    assert_accessible(page)
    screenshot(page, "case-page-answer-template")
    reply.fill(reply.input_value() + "\nVälkommen åter!")
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.locator("#reply-feedback")).to_contain_text("Svaret är sparat")
    expect(page.locator("#conversation")).to_contain_text(
        "Besvarat med svarsmallen Parkering: tack")

    # The next reply, written by hand, claims no template.
    page.get_by_label("Svar", exact=True).fill("Ett eget svar.")
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.locator("#conversation")).to_contain_text("Ett eget svar.")

    replies = templates.scalars(select(Message).where(
        Message.case_id == case_id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id)).all()
    template_id = templates.scalar(select(AnswerTemplate.id).where(
        AnswerTemplate.name == "Parkering: tack"))
    assert [m.channel_metadata.get("answer_template") for m in replies] == [
        {"id": template_id, "name": "Parkering: tack"}, None]
    assert replies[0].body.endswith("Anna Lindqvist\nVälkommen åter!")
    db.session.rollback()



def _reference(session, case_id) -> str:
    reference = session.get(Case, case_id).reference
    db.session.rollback()
    return reference
