"""Kunskapsbanken in a real browser: a guide proposes a change to an article from the
search page, a real worker mails the owning department, the department's staff answer it
and confirm an article due for review on their page, and the guide sees the answer;
guides have nothing to answer."""

import email
import email.policy
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from citizencenter import db
from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.db import utcnow
from citizencenter.knowledge import service as knowledge
from citizencenter.knowledge.models import Article
from tests.conftest import running_smtp
from tests.web.conftest import assert_accessible, screenshot, sign_in

SUPERVISOR = Principal(actor="user:test-supervisor", scopes=frozenset({"cases:write"}),
                       role=Role.SUPERVISOR)
NOTE = "Dispensen kostar 4 500 kronor sedan januari, inte 3 000."


@pytest.fixture
def smtp_inbox():
    with running_smtp(lambda envelope: (envelope.rcpt_tos, email.message_from_bytes(
            envelope.content, policy=email.policy.default))) as inbox:
        yield inbox


@pytest.fixture
def worker_env(worker_env, smtp_inbox, live_server) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_inbox.port),
            "SMTP_TIMEOUT_S": "5", "PUBLIC_BASE_URL": live_server.url}


@pytest.fixture
def article(committed, engine):
    """An article of the department the demo's department user works in; gone after."""
    title = f"Strandskyddsdispens {uuid.uuid4().hex[:6]}"
    article_id = knowledge.create_article(
        committed, SUPERVISOR, title=title, department="stadsbyggnad", audience="internal",
        body="Strandskyddsdispens söks hos stadsbyggnadskontoret och kostar 3 000 kronor.").id
    db.session.remove()
    yield article_id, title
    with engine.begin() as conn:
        for table in ("knowledge_proposals", "knowledge_article_versions"):
            conn.execute(text(f"DELETE FROM {table} WHERE article_id = :id"), {"id": article_id})
        if conn.dialect.name == "sqlite":
            conn.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": article_id})
        conn.execute(text("DELETE FROM knowledge_articles WHERE id = :id"), {"id": article_id})


def _mail_to(inbox, address: str, subject: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for to, message in inbox.messages:
            if address in to and message["Subject"] == subject:
                return message
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} within {timeout} s")


@pytest.mark.worker
def test_a_proposal_goes_from_the_guide_to_the_owner_and_back(
        page, new_page, article, committed, start_celery, smtp_inbox):
    article_id, title = article
    guide = sign_in(page, "guide")
    guide.goto("/knowledge/search?q=strandskyddsdispens")
    guide.get_by_role("link", name=f"Föreslå ändring av {title}").click()
    assert guide.get_by_role("heading", level=1).inner_text() == f"Föreslå ändring: {title}"
    with guide.expect_response(lambda r: r.request.method == "POST") as answer:
        guide.get_by_role("button", name="Skicka förslaget").click()
    assert answer.value.status == 422  # nothing written
    note = guide.get_by_label("Förslag")
    assert note.get_attribute("aria-invalid") == "true"
    assert "Skriv förslaget" in guide.locator("#proposal-note-error").inner_text()
    assert_accessible(guide)
    note.fill(NOTE)
    guide.get_by_role("button", name="Skicka förslaget").click()
    guide.get_by_role("status").filter(has_text="Förslaget är skickat").wait_for()
    assert guide.get_by_role("heading", name="Att besvara").count() == 0  # guides answer none
    row = guide.get_by_role("row").filter(has=guide.get_by_role("rowheader", name=title))
    assert "Väntar på svar" in row.inner_text() and NOTE in row.inner_text()

    start_celery("worker")
    start_celery("beat")  # relays the outbox, as in production
    mail = _mail_to(smtp_inbox, "stadsbyggnad@lund.example", f"Förslag på ändring: {title}")
    assert NOTE in mail.get_content() and "/knowledge/proposals" in mail.get_content()

    owner = sign_in(new_page(), "department")
    owner.get_by_role("navigation").get_by_role("link", name="Kunskapsbanken").click()
    owner.get_by_role("heading", name="Att besvara").wait_for()
    listed = owner.get_by_role("row").filter(has=owner.get_by_role("rowheader", name=title))
    assert NOTE in listed.inner_text()
    assert_accessible(owner)
    screenshot(owner, "knowledge-proposals")
    owner.get_by_role("button", name=f"Artikeln {title} är ändrad").click()
    owner.get_by_role("status").filter(has_text="artikeln är ändrad").wait_for()
    assert owner.get_by_role("rowheader", name=title).count() == 0  # answered: off the list

    # The article is past its review date: the owner confirms it on the same page.
    committed.execute(update(Article).where(Article.id == article_id)
                      .values(review_due_at=utcnow() - timedelta(days=3)))
    committed.commit()
    owner.reload()
    owner.get_by_role("heading", name="Att granska").wait_for()
    owner.get_by_role("button", name=f"Bekräfta att {title} stämmer").click()
    owner.get_by_role("status").filter(has_text="Granskningen är bekräftad").wait_for()
    assert owner.get_by_role("button", name=f"Bekräfta att {title} stämmer").count() == 0
    assert committed.get(Article, article_id).review_due_at > utcnow()
    committed.rollback()

    guide.reload()
    assert "Artikeln ändrades" in guide.get_by_role("row").filter(
        has=guide.get_by_role("rowheader", name=title)).inner_text()
