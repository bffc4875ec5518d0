"""A proposed change reaches the article's owner: mailed to the department by the worker,
listed for its staff and supervisors to answer once, and followed by the guide who made it."""

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import Department
from citizencenter.audit.models import AuditEntry
from citizencenter.db import utcnow
from citizencenter.errors import Forbidden
from citizencenter.knowledge import notifications, service
from citizencenter.knowledge.models import Article, Proposal
from citizencenter.mailer import MailNotSent
from citizencenter.outbox import OutboxMessage
from tests.conftest import _free_port, running_smtp
from tests.factories import bearer
from tests.knowledge.test_articles import URL, create
from workers.schedule import beat_schedule
from workers.tasks.knowledge import remind_reviews

PROPOSALS = "/api/v1/knowledge/proposals"
NOTE = "Avgiften är 1 200 kr från januari."


def _propose(client, tokens, article, note=NOTE) -> dict:
    response = client.post(f"{URL}/{article['id']}/proposals", json={"note": note},
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _mail_config(app, port, **more):
    return {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT_S": 5,
            "PUBLIC_BASE_URL": "https://kc.lund.example", **more}


def test_the_owning_department_is_mailed_once_with_the_note_and_where_to_answer(
        app, client, session, tokens):
    article = create(client, tokens["supervisor"], title="Avgift för bygglov")
    proposal = _propose(client, tokens, article)
    queued = session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == "knowledge.change_proposed").order_by(OutboxMessage.id.desc()))
    assert queued.payload == {"proposal_id": proposal["id"]}  # an id: the note stays here
    with running_smtp(lambda env: (env.rcpt_tos, email.message_from_bytes(
            env.content, policy=email.policy.default))) as sink:
        config = _mail_config(app, sink.port)
        assert notifications.notify_owner(session, proposal["id"], config) is True
        assert notifications.notify_owner(session, proposal["id"], config) is False  # once
    [(to, mail)] = sink.messages
    assert to == ["stadsbyggnad@lund.example"]
    assert mail["Subject"] == "Förslag på ändring: Avgift för bygglov"
    body = mail.get_content()
    assert NOTE in body and "https://kc.lund.example/knowledge/proposals" in body
    assert session.get(Proposal, proposal["id"]).notified_at is not None


def test_a_failed_send_is_retried_and_no_address_or_an_answer_means_no_mail(
        app, client, session, tokens):
    article = create(client, tokens["supervisor"])
    proposal = _propose(client, tokens, article)
    with pytest.raises(MailNotSent):  # so the task retries
        notifications.notify_owner(session, proposal["id"], _mail_config(app, _free_port()))
    assert session.get(Proposal, proposal["id"]).notified_at is None
    session.execute(update(Department).where(Department.slug == "stadsbyggnad")
                    .values(email=None))
    session.commit()
    assert notifications.notify_owner(session, proposal["id"],
                                      _mail_config(app, _free_port())) is False
    answered = _propose(client, tokens, article, "Ett till.")
    assert client.patch(f"{PROPOSALS}/{answered['id']}", json={"outcome": "declined"},
                        headers=bearer(tokens["supervisor"])).status_code == 200
    assert notifications.notify_owner(session, answered["id"],
                                      _mail_config(app, _free_port())) is False


def test_owners_answer_once_and_the_guide_follows_their_proposal(client, session, tokens):
    ours = create(client, tokens["supervisor"], title="Plank")
    theirs = create(client, tokens["supervisor"], title="Förskola", department="utbildning",
                    category=None)
    on_ours, on_theirs = _propose(client, tokens, ours), _propose(client, tokens, theirs)

    def listed(role, view=None):
        response = client.get(PROPOSALS, query_string={"view": view} if view else {},
                              headers=bearer(tokens[role]))
        assert response.status_code == 200, response.get_json()
        return [p["id"] for p in response.get_json()["items"]]

    # Department staff see their department's articles' proposals; supervisors every one.
    assert on_ours["id"] in listed("department") and on_theirs["id"] not in listed("department")
    assert {on_ours["id"], on_theirs["id"]} <= set(listed("supervisor"))
    refused = client.get(PROPOSALS, headers=bearer(tokens["guide"]))
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"

    url = f"{PROPOSALS}/{on_ours['id']}"
    assert client.patch(url, json={"outcome": "changed"},
                        headers=bearer(tokens["guide"])).status_code == 403
    assert client.patch(f"{PROPOSALS}/{on_theirs['id']}", json={"outcome": "changed"},
                        headers=bearer(tokens["department"])).status_code == 403
    bad = client.patch(url, json={"outcome": "maybe"}, headers=bearer(tokens["department"]))
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert client.patch(f"{PROPOSALS}/999999", json={"outcome": "changed"},
                        headers=bearer(tokens["department"])).status_code == 404
    answered = client.patch(url, json={"outcome": "changed"},
                            headers=bearer(tokens["department"]))
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["outcome"] == "changed"
    assert answered.get_json()["handled_by"].startswith("user:")
    again = client.patch(url, json={"outcome": "declined"}, headers=bearer(tokens["supervisor"]))
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert session.get(Proposal, on_ours["id"]).outcome == "changed"
    assert on_ours["id"] not in listed("department")  # answered: off the to-do list
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "knowledge.proposal_handled").order_by(AuditEntry.id.desc()))
    assert entry.data == {"proposal_id": on_ours["id"], "outcome": "changed"}

    mine = client.get(PROPOSALS, query_string={"view": "mine"}, headers=bearer(tokens["guide"]))
    items = {p["id"]: p for p in mine.get_json()["items"]}
    assert items[on_ours["id"]]["outcome"] == "changed"
    assert items[on_theirs["id"]]["outcome"] is None
    assert items[on_ours["id"]]["article_title"] == "Plank"
    assert client.get(PROPOSALS, query_string={"view": "all"},
                      headers=bearer(tokens["supervisor"])).status_code == 422


def test_owners_see_the_reviews_due_for_them_the_longest_overdue_first(client, session, tokens):
    ours = create(client, tokens["supervisor"], title="Plank")
    older = create(client, tokens["supervisor"], title="Altan")
    theirs = create(client, tokens["supervisor"], title="Förskola", department="utbildning",
                    category=None)
    current = create(client, tokens["supervisor"], title="Staket")
    now = utcnow()
    for article, days in ((ours, 2), (older, 30), (theirs, 5), (current, -10)):
        session.execute(update(Article).where(Article.id == article["id"])
                        .values(review_due_at=now - timedelta(days=days)))
    session.commit()

    def due(role):
        return [a.id for a in service.reviews_due(
            session, accounts.authenticate(session, tokens[role]))]

    department = due("department")
    assert department[:2] == [older["id"], ours["id"]] and theirs["id"] not in department
    assert current["id"] not in department
    assert {ours["id"], older["id"], theirs["id"]} <= set(due("supervisor"))
    with pytest.raises(Forbidden):
        due("guide")


def test_articles_past_their_review_date_are_named_to_their_department_weekly(
        app, client, session, tokens):
    now = utcnow()
    session.execute(update(Article).values(review_reminded_at=now))  # others: not this time
    session.commit()
    overdue = create(client, tokens["supervisor"], title="Avgift för bygglov")
    also = create(client, tokens["supervisor"], title="Strandskydd vid sjöar")
    fresh = create(client, tokens["supervisor"], title="Plank i tomtgräns")
    silent = create(client, tokens["supervisor"], title="Skolskjuts", department="utbildning",
                    category=None)
    past = [overdue["id"], also["id"], silent["id"]]
    session.execute(update(Article).where(Article.id.in_(past))
                    .values(review_due_at=now - timedelta(days=3)))
    session.execute(update(Department).where(Department.slug == "utbildning").values(email=None))
    session.commit()
    with pytest.raises(MailNotSent):  # nothing is marked: the next run names them again
        notifications.remind_reviews(session, _mail_config(app, _free_port()), now)
    with running_smtp(lambda env: (env.rcpt_tos, email.message_from_bytes(
            env.content, policy=email.policy.default))) as sink:
        config = _mail_config(app, sink.port)
        assert notifications.remind_reviews(session, config, now) == 1
        assert notifications.remind_reviews(session, config, now + timedelta(days=2)) == 0
        assert notifications.remind_reviews(session, config, now + timedelta(days=8)) == 1
    [(to, mail), (again_to, _again)] = sink.messages
    assert to == again_to == ["stadsbyggnad@lund.example"]  # utbildning has no address
    assert mail["Subject"] == "Kunskapsbanken: 2 artiklar att granska"
    body = mail.get_content()
    assert "Avgift för bygglov" in body and "Strandskydd vid sjöar" in body
    assert fresh["title"] not in body and "Skolskjuts" not in body
    assert "https://kc.lund.example/knowledge/proposals" in body
    reviewed = client.post(f"{URL}/{overdue['id']}/review", headers=bearer(tokens["supervisor"]))
    assert reviewed.status_code == 200, reviewed.get_json()
    with running_smtp(lambda env: email.message_from_bytes(
            env.content, policy=email.policy.default)) as sink:
        config = _mail_config(app, sink.port)
        assert notifications.remind_reviews(session, config, now + timedelta(days=16)) == 1
    assert "Avgift för bygglov" not in sink.messages[0].get_content()  # reviewed: not named
    entry = beat_schedule(app.config)["remind-knowledge-reviews"]
    assert entry["task"] == remind_reviews.name and entry["schedule"].hour == {6}
