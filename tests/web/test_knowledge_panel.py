"""The knowledge panel in a real browser: "Sök i kunskapsbanken" searches as the guide
types, "Infoga länk" puts the article into the reply, "Markera som svar" records the use,
shown as "Besvarat med" and in the case's API; the register form has the panel too, and
without script the panel is a plain search page."""

import itertools
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text

from citizencenter import db
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import Role
from citizencenter.accounts.service import SYSTEM, Principal
from citizencenter.answers.models import AnswerTemplate
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Channel
from citizencenter.knowledge import service as knowledge
from citizencenter.knowledge.models import Article, ArticleUse
from tests.web.conftest import assert_accessible, screenshot

SUPERVISOR = Principal(actor="user:test-supervisor", scopes=frozenset({"cases:write"}),
                       role=Role.SUPERVISOR)
TITLE = "Båtplatser i kommunens hamnar"
_numbers = itertools.count(1)


@pytest.fixture
def boat_article(committed, engine):
    """A public article only these tests search for; gone afterwards with its uses."""
    article = knowledge.create_article(
        committed, SUPERVISOR, title=TITLE, department="tekniska", audience="public",
        body="Kommunen hyr ut **båtplatser** i Dalby och Genarp. Ställ dig i kö via "
             "e-tjänsten; en båtplats kostar 1 200 kronor om året.")
    template = AnswerTemplate(name=f"Båtplats: tack {uuid.uuid4().hex[:6]}",
                              body="Hej {{ citizen_name }}!", created_by="test")
    committed.add(template)
    committed.commit()
    ids = article.id, template.id, template.name
    db.session.remove()
    yield ids
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM knowledge_uses WHERE article_id = :id"), {"id": ids[0]})
        conn.execute(text("DELETE FROM knowledge_article_versions WHERE article_id = :id"),
                     {"id": ids[0]})
        if conn.dialect.name == "sqlite":
            conn.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": ids[0]})
        conn.execute(text("DELETE FROM knowledge_articles WHERE id = :id"), {"id": ids[0]})
        conn.execute(text("DELETE FROM answer_templates WHERE id = :id"), {"id": ids[1]})


def _open_case(session) -> uuid.UUID:
    case = cases_service.open_case(
        session, SYSTEM, channel=Channel.PHONE, subject="Fråga om båtplats",
        description="Hur får jag en båtplats?",
        contact={"name": "Sven Ek", "phone": f"070-555 {next(_numbers):02d} 10"})
    case_id = case.id
    db.session.remove()
    return case_id


def test_search_insert_and_mark_the_case_answered(boat_article, committed, live_server,
                                                  guide_page):
    article_id, _, template_name = boat_article
    case_id = _open_case(committed)
    _, token = accounts.create_token(committed, "panel test",
                                     user_email="anna.lindqvist@lund.example")
    db.session.remove()
    page = guide_page
    page.goto(f"/cases/{case_id}")
    expect(page.locator("#answered-with")).to_contain_text("inte markerat")

    # As the guide types an inflected form, the article comes up and the count is announced.
    search = page.get_by_label("Sök i kunskapsbanken")
    search.press_sequentially("båtplatserna", delay=40)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.locator("#knowledge-status")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#knowledge-status")).to_contain_text("hittades")
    expect(page.locator(".knowledge-snippet mark").first).to_have_text("båtplatser")

    reply = page.get_by_label("Svar", exact=True)
    reply.fill("Hej! Läs mer här:")
    page.get_by_role("button", name=f"Infoga länk till {TITLE}").click()
    expect(reply).to_have_value(
        f"Hej! Läs mer här:\n{TITLE}: {live_server.url}"
        f"/api/v1/public/knowledge/articles/{article_id}")
    expect(page.locator("#knowledge-status")).to_contain_text("infogad i svaret")
    assert_accessible(page)
    screenshot(page, "case-page-knowledge-panel")

    page.get_by_role("button", name=f"Markera {TITLE} som svar").click()
    expect(page.locator("#answered-with")).to_contain_text(f"Artikel: {TITLE}")
    expect(page.locator("#knowledge-status")).to_contain_text("markerat som besvarat")
    # The reply typed meanwhile is kept.
    expect(reply).to_have_value(f"Hej! Läs mer här:\n{TITLE}: {live_server.url}"
                                f"/api/v1/public/knowledge/articles/{article_id}")

    uses = page.request.get(f"/api/v1/cases/{case_id}/knowledge-uses",
                            headers={"Authorization": f"Bearer {token}"})
    assert uses.status == 200
    assert [a["article_id"] for a in uses.json()["articles"]] == [article_id]

    # A reply sent with a template joins "Besvarat med" when it is saved.
    page.get_by_label("Svarsmall").select_option(label=template_name)
    page.get_by_role("button", name="Förhandsgranska").click()
    expect(reply).to_have_value("Hej Sven Ek!")
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.locator("#answered-with")).to_contain_text(f"Svarsmall: {template_name}")
    page.reload()
    answered = page.locator("#answered-with")
    expect(answered).to_contain_text(f"Artikel: {TITLE}")
    expect(answered).to_contain_text(f"Svarsmall: {template_name}")
    assert_accessible(page)
    screenshot(page, "case-page-answered-with")


def test_a_search_that_finds_nothing_says_so(boat_article, committed, live_server,
                                             guide_page):
    case_id = _open_case(committed)
    page = guide_page
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Sök i kunskapsbanken").press_sequentially("zxqvbnörå", delay=20)
    expect(page.locator("#knowledge-status")).to_contain_text(
        "Inga artiklar hittades för ”zxqvbnörå”")
    expect(page.locator("#knowledge-hits li")).to_have_count(0)


def test_the_register_form_has_the_panel(boat_article, live_server, guide_page):
    page = guide_page
    page.goto("/register")
    page.get_by_label("Sök i kunskapsbanken").press_sequentially("båtplats", delay=30)
    page.get_by_role("button", name=f"Infoga länk till {TITLE}").click()
    expect(page.locator("#register-description")).to_have_value(
        f"{TITLE}: {live_server.url}/api/v1/public/knowledge/articles/{boat_article[0]}")
    # No case yet: nothing to mark as answered.
    expect(page.get_by_role("button", name="Markera")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "register-knowledge-panel")


def test_without_script_the_panel_is_a_search_page(boat_article, committed, engine,
                                                   live_server, new_page):
    from tests.web.conftest import sign_in
    article_id = boat_article[0]
    case_id = _open_case(committed)
    page = sign_in(new_page(java_script_enabled=False), "guide")
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Sök i kunskapsbanken").fill("båtplatsen")
    page.get_by_role("button", name="Sök artiklar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sök i kunskapsbanken")
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    page.get_by_role("button", name=f"Markera {TITLE} som svar").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{case_id}")
    expect(page.locator("#answered-with")).to_contain_text(f"Artikel: {TITLE}")
    with engine.connect() as conn:
        used = conn.execute(select(ArticleUse.article_id).where(
            ArticleUse.case_id == case_id)).scalars().all()
    assert used == [article_id]
    assert committed.get(Article, article_id) is not None
    db.session.rollback()
