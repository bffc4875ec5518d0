"""Used to answer: cases marked as answered with an article, replies sent with a template,
the searches kept (folded, without personal data) and the knowledge report over them."""

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Message
from citizencenter.knowledge import usage
from citizencenter.knowledge.models import ArticleUse, KnowledgeSearch
from tests.factories import bearer, create_case

_actors = itertools.count(1)


def _guide() -> Principal:
    """A guide of its own, so that no other test's searches are typed on from it."""
    return Principal(actor=f"user:usage-test-{next(_actors)}",
                     scopes=frozenset({"cases:read", "cases:write", "directory:read"}),
                     role=Role.GUIDE)


def _uses_url(case_id) -> str:
    return f"/api/v1/cases/{case_id}/knowledge-uses"


def _mark(client, token, case_id, article_id):
    return client.post(_uses_url(case_id), json={"article_id": article_id},
                       headers=bearer(token))


def _template(client, tokens, name: str, channel: str = "email") -> int:
    response = client.post("/api/v1/answer-templates",
                           json={"name": name, "body": "Hej {{ citizen_name }}!",
                                 "channel": channel}, headers=bearer(tokens["supervisor"]))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _reply_with(client, token, case_id, template_id) -> int:
    response = client.post(f"/api/v1/cases/{case_id}/answer-templates/{template_id}/replies",
                           json={}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_guide_marks_a_case_answered_with_an_article(client, tokens, session, article_set):
    case = create_case(client, tokens["guide"])
    article_id = article_set["bygglov"]
    marked = _mark(client, tokens["guide"], case["id"], article_id)
    assert marked.status_code == 201, marked.get_json()
    assert marked.get_json()["title"] == "Bygglov"
    assert marked.get_json()["channel"] == "email"
    # Marking again keeps one use.
    assert _mark(client, tokens["guide"], case["id"], article_id).status_code == 201
    listed = client.get(_uses_url(case["id"]), headers=bearer(tokens["guide"])).get_json()
    assert [(a["article_id"], a["title"]) for a in listed["articles"]] == [
        (article_id, "Bygglov")]
    assert listed["templates"] == []
    assert session.scalar(select(ArticleUse.used_by).where(
        ArticleUse.case_id == UUID(case["id"]))).startswith("user:")
    assert session.scalars(select(AuditEntry.action).where(
        AuditEntry.action == "knowledge.case_answered",
        AuditEntry.entity_id == str(case["id"]))).all() == ["knowledge.case_answered"]


def test_marking_refuses_unknown_articles_and_cases_out_of_reach(client, tokens, article_set):
    case = create_case(client, tokens["guide"])
    unknown = _mark(client, tokens["guide"], case["id"], 2_000_000_000)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "article_id"
    assert _mark(client, tokens["guide"], case["id"], "x").status_code == 422
    # Department staff see only their department's cases: another's is not found.
    hidden = _mark(client, tokens["department"], case["id"], article_set["bygglov"])
    assert hidden.status_code == 404
    assert client.get(_uses_url(case["id"]),
                      headers=bearer(tokens["department"])).status_code == 404
    # Reading is not writing: the integration token has neither scope.
    assert _mark(client, tokens["integration"], case["id"],
                 article_set["bygglov"]).status_code == 403


def test_replies_sent_with_a_template_are_listed_with_the_articles(client, tokens,
                                                                  article_set):
    case = create_case(client, tokens["guide"])
    template_id = _template(client, tokens, "Användning: e-posttack")
    message_id = _reply_with(client, tokens["guide"], case["id"], template_id)
    _mark(client, tokens["guide"], case["id"], article_set["attefall"])
    listed = client.get(_uses_url(case["id"]), headers=bearer(tokens["guide"])).get_json()
    assert [(t["template_id"], t["name"], t["message_id"]) for t in listed["templates"]] == [
        (template_id, "Användning: e-posttack", message_id)]
    assert [a["title"] for a in listed["articles"]] == ["Attefallshus och friggebodar"]


def test_queries_with_personal_data_are_never_kept():
    for q in ["19811218-9876 bygglov", "bygglov 811218-9876", "karin.ek@example.se",
              "ring 070-123 45 67", "+46701234567", "0701234567"]:
        assert usage.kept_query(q) is None, q
    assert usage.kept_query("  Sophämtning   Dalby ") == "sophamtning dalby"
    assert usage.kept_query("?!") is None


def test_a_search_is_kept_folded_with_its_count_and_role(client, tokens, session,
                                                         article_set):
    q = "Bygglovsansökan för Altan"
    response = client.get("/api/v1/knowledge/search", query_string={"q": q},
                          headers=bearer(tokens["guide"]))
    hits = len(response.get_json()["items"])
    kept = session.scalars(select(KnowledgeSearch).where(
        KnowledgeSearch.query == "bygglovsansokan for altan")).all()
    assert [(k.results, k.role) for k in kept] == [(hits, "guide")] and hits > 0

    client.get("/api/v1/knowledge/search", query_string={"q": "plank 19811218-9876"},
               headers=bearer(tokens["guide"]))
    assert session.scalars(select(KnowledgeSearch).where(
        KnowledgeSearch.query.like("%plank%"))).all() == []


def test_words_typed_one_after_another_count_as_one_search(session):
    guide, other = _guide(), _guide()
    start = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
    for i, typed in enumerate(["för", "försk", "förskolep", "förskoleplats"]):
        usage.record_search(session, guide, typed, 3 - min(i, 3),
                            now=start + timedelta(seconds=2 * i))
    usage.record_search(session, other, "förskoleplats", 1, now=start)
    # Backspacing keeps the same search too; a new query after a pause is a new search.
    usage.record_search(session, guide, "förskole", 2, now=start + timedelta(seconds=9))
    usage.record_search(session, guide, "förskolekö", 0, now=start + timedelta(seconds=30))
    kept = session.execute(select(KnowledgeSearch.actor, KnowledgeSearch.query,
                                  KnowledgeSearch.results)
                           .where(KnowledgeSearch.actor.in_([guide.actor, other.actor]))
                           .order_by(KnowledgeSearch.id)).all()
    assert [tuple(k) for k in kept] == [(guide.actor, "forskole", 2),
                                        (other.actor, "forskoleplats", 1),
                                        (guide.actor, "forskolekö".replace("ö", "o"), 0)]


def test_the_report_counts_uses_and_the_searches_that_found_nothing(client, tokens, session,
                                                                    article_set):
    # A period of its own, in 2032, so that other tests' data stays out of it.
    day = datetime(2032, 5, 10, 8, 0, tzinfo=UTC)
    email_a, email_b = (create_case(client, tokens["guide"]) for _ in range(2))
    phone = create_case(client, tokens["guide"], channel="phone",
                        contact={"name": "Per Ek", "phone": "+46701112299"})
    guide = Principal(actor="user:usage-report", scopes=frozenset({"cases:write"}),
                      role=Role.GUIDE)
    for case, key in [(email_a, "bygglov"), (email_a, "altan"), (email_b, "bygglov"),
                      (phone, "bygglov")]:
        usage.mark_answered(session, guide, UUID(case["id"]), article_set[key], now=day)
    # A use outside the period is not counted.
    late = create_case(client, tokens["guide"])
    usage.mark_answered(session, guide, UUID(late["id"]), article_set["altan"],
                        now=datetime(2032, 6, 1, tzinfo=UTC))

    template_id = _template(client, tokens, "Rapport: tack")
    sent = [_reply_with(client, tokens["guide"], case["id"], template_id)
            for case in (email_a, email_b)]
    for message_id in sent:
        session.get(Message, message_id).created_at = day
    session.commit()

    searcher = _guide()
    for minute, (q, found) in enumerate([("sophämtning dalby", 0), ("bygglov", 3),
                                         ("Sophamtning Dalby", 0), ("hundbajspåsar", 0),
                                         ("sophämtning  dalby!", 0)]):
        usage.record_search(session, searcher, q, found, now=day + timedelta(minutes=minute))

    response = client.get("/api/v1/knowledge/report",
                          query_string={"from": "2032-05-01", "to": "2032-05-31"},
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["articles"] == [
        {"article_id": article_set["bygglov"], "title": "Bygglov", "uses": 3},
        {"article_id": article_set["altan"], "title": "Altan och uteplats", "uses": 1}]
    assert report["answered_with_article"] == [{"channel": "email", "cases": 2},
                                               {"channel": "phone", "cases": 1}]
    assert report["templates"] == [{"template_id": template_id, "name": "Rapport: tack",
                                    "uses": 2}]
    assert report["searches"] == {"total": 5, "without_results": 4}
    assert report["searches_without_results"] == [
        {"query": "sophamtning dalby", "searches": 3},
        {"query": "hundbajspasar", "searches": 1}]
    assert report["from"] == "2032-05-01T00:00:00+02:00"  # Stockholm midnight


def test_the_report_is_for_supervisors_and_checks_its_period(client, tokens):
    url = "/api/v1/knowledge/report"
    period = {"from": "2032-05-01", "to": "2032-05-31"}
    assert client.get(url, query_string=period,
                      headers=bearer(tokens["guide"])).status_code == 403
    for bad in [{"from": "2032-05-31", "to": "2032-05-01"}, {"from": "2032-05-01"},
                {"from": "igår", "to": "2032-05-01"},
                {"from": "2030-01-01", "to": "2032-01-01"}]:
        response = client.get(url, query_string=bad, headers=bearer(tokens["supervisor"]))
        assert response.status_code == 422, bad
        assert response.headers["Content-Type"] == "application/problem+json"
