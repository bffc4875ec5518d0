from datetime import UTC, datetime

from sqlalchemy import select

from citizencenter.audit.models import AuditEntry
from citizencenter.knowledge import service
from tests.factories import bearer
from tests.knowledge.conftest import SUPERVISOR

URL = "/api/v1/knowledge/articles"


def article_payload(**overrides) -> dict:
    payload = {"title": "Bygglov för plank", "body": "Ett plank över **1,1 meter** kräver lov.",
               "category": "bygglov", "department": "stadsbyggnad", "audience": "internal",
               "tags": ["plank", "bygglov"], "review_interval_months": 6}
    payload.update(overrides)
    return payload


def create(client, token, **overrides):
    response = client.post(URL, json=article_payload(**overrides), headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_supervisor_writes_an_article_rendered_and_sanitised(client, tokens):
    body = "# Plank\n\nSe [reglerna](https://lund.example/plank).\n\n<script>alert(1)</script>" \
           "<a href=\"javascript:alert(1)\">klick</a> <img src=x onerror=alert(1)>"
    article = create(client, tokens["supervisor"], body=body)
    assert article["version"] == 1 and article["department"] == "stadsbyggnad"
    assert article["category"] == "bygglov" and article["tags"] == ["bygglov", "plank"]
    assert "<h1>Plank</h1>" in article["body_html"]
    assert '<a href="https://lund.example/plank"' in article["body_html"]
    for unsafe in ("<script", "javascript:", "onerror"):
        assert unsafe not in article["body_html"]
    assert article["body"] == body  # the Markdown as written, for the next edit
    assert article["review_overdue"] is False


def test_an_edit_is_a_new_version_and_earlier_ones_stay_readable(client, tokens, session):
    article = create(client, tokens["supervisor"])
    url = f"{URL}/{article['id']}"
    changed = client.patch(url, json={"body": "Ett plank över 1,2 meter kräver lov."},
                           headers={**bearer(tokens["department"]), "If-Match": '"1"'})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["version"] == 2
    versions = client.get(f"{url}/versions", headers=bearer(tokens["guide"])).get_json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["changed_fields"] == ["body"]
    assert versions[0]["changed_by"] != versions[1]["changed_by"]
    first = client.get(f"{url}/versions/1", headers=bearer(tokens["guide"])).get_json()
    assert first["body"] == article_payload()["body"]
    assert client.get(f"{url}/versions/3", headers=bearer(tokens["guide"])).status_code == 404
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "knowledge_article",
        AuditEntry.entity_id == str(article["id"]))).all()
    assert actions == ["knowledge.article_created", "knowledge.article_changed"]


def test_concurrent_edits_need_the_current_etag(client, tokens):
    article = create(client, tokens["supervisor"])
    url, auth = f"{URL}/{article['id']}", bearer(tokens["supervisor"])
    read = client.get(url, headers=auth)
    assert read.headers["ETag"] == '"1"'
    missing = client.patch(url, json={"title": "Ny rubrik"}, headers=auth)
    assert missing.status_code == 428 and missing.content_type == "application/problem+json"
    first = client.patch(url, json={"title": "Ny rubrik"}, headers={**auth, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = client.patch(url, json={"title": "Annan rubrik"}, headers={**auth, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.get(url, headers=auth).get_json()["title"] == "Ny rubrik"


def test_who_may_edit(client, tokens, session):
    from citizencenter.accounts import service as accounts
    own = create(client, tokens["department"])  # Johan Berg is stadsbyggnad's
    other = client.post(URL, json=article_payload(department="tekniska"),
                        headers=bearer(tokens["department"]))
    assert other.status_code == 403
    assert other.content_type == "application/problem+json"
    tekniska = create(client, tokens["supervisor"], department="tekniska")
    assert client.patch(f"{URL}/{tekniska['id']}", json={"title": "Nytt"},
                        headers=bearer(tokens["department"])).status_code == 403
    # Moving one's own article to another department is not theirs to do either.
    assert client.patch(f"{URL}/{own['id']}", json={"department": "tekniska"},
                        headers={**bearer(tokens["department"]), "If-Match": '"1"'}
                        ).status_code == 403
    assert client.post(URL, json=article_payload(),
                       headers=bearer(tokens["guide"])).status_code == 403
    assert client.patch(f"{URL}/{own['id']}", json={"title": "Nytt"},
                        headers=bearer(tokens["guide"])).status_code == 403
    assert client.post(f"{URL}/{own['id']}/review",
                       headers=bearer(tokens["guide"])).status_code == 403
    integration = accounts.create_token(session, "calls", scopes=["calls:write"])[1]
    assert client.get(URL, headers=bearer(integration)).status_code == 403
    assert client.get(URL).status_code == 401


def test_guides_propose_changes_to_the_owner(client, tokens):
    article = create(client, tokens["supervisor"])
    url = f"{URL}/{article['id']}/proposals"
    response = client.post(url, json={"note": "Gränsen är 1,2 meter sedan i år."},
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 201, response.get_json()
    proposals = client.get(url, headers=bearer(tokens["department"])).get_json()["items"]
    assert [p["note"] for p in proposals] == ["Gränsen är 1,2 meter sedan i år."]
    assert proposals[0]["article_version"] == 1
    # The article itself is unchanged by a proposal.
    assert client.get(f"{URL}/{article['id']}",
                      headers=bearer(tokens["guide"])).get_json()["version"] == 1


def test_overdue_reviews_are_flagged_and_listed(client, tokens, session):
    long_ago = datetime(2024, 1, 31, 9, tzinfo=UTC)
    stale = service.create_article(session, SUPERVISOR, title="Gammal text", body="Text.",
                                   department="tekniska", audience="public",
                                   review_interval_months=1, now=long_ago)
    assert stale.review_due_at == datetime(2024, 2, 29, 9, tzinfo=UTC)
    fresh = create(client, tokens["supervisor"])
    overdue = client.get(URL, query_string={"overdue": "true"},
                         headers=bearer(tokens["supervisor"])).get_json()["items"]
    assert stale.id in [a["id"] for a in overdue] and fresh["id"] not in [a["id"] for a in overdue]
    assert all(a["review_overdue"] for a in overdue)
    reviewed = client.post(f"{URL}/{stale.id}/review", headers=bearer(tokens["supervisor"]))
    assert reviewed.status_code == 200 and reviewed.get_json()["review_overdue"] is False
    overdue = client.get(URL, query_string={"overdue": "true"},
                         headers=bearer(tokens["supervisor"])).get_json()["items"]
    assert stale.id not in [a["id"] for a in overdue]


def test_listing_filters(client, tokens):
    bygg = create(client, tokens["supervisor"])
    avfall = create(client, tokens["supervisor"], department="tekniska", category="avfall",
                    audience="public")
    listed = client.get(URL, query_string={"department": "tekniska"},
                        headers=bearer(tokens["guide"])).get_json()["items"]
    assert avfall["id"] in [a["id"] for a in listed] and bygg["id"] not in [a["id"] for a in listed]
    public = client.get(URL, query_string={"audience": "public"},
                        headers=bearer(tokens["guide"])).get_json()["items"]
    assert {a["audience"] for a in public} == {"public"}


def test_bad_input_is_problem_json_and_changes_nothing(client, tokens, session):
    from citizencenter.knowledge.models import Article
    before = session.scalar(select(Article.id).order_by(Article.id.desc()).limit(1))
    for payload in (article_payload(title=""), article_payload(audience="everyone"),
                    article_payload(department="nope"), article_payload(category="nope"),
                    article_payload(review_interval_months=0), article_payload(extra=1),
                    article_payload(title="a\x00b"), article_payload(tags="plank"),
                    {k: v for k, v in article_payload().items() if k != "body"}):
        response = client.post(URL, json=payload, headers=bearer(tokens["supervisor"]))
        assert response.status_code == 422, (payload, response.get_json())
        assert response.content_type == "application/problem+json"
        assert response.get_json()["errors"]
    assert session.scalar(select(Article.id).order_by(Article.id.desc()).limit(1)) == before
    article = create(client, tokens["supervisor"])
    empty = client.patch(f"{URL}/{article['id']}", json={}, headers=bearer(tokens["supervisor"]))
    assert empty.status_code == 422
    assert client.get(f"{URL}/999999", headers=bearer(tokens["guide"])).status_code == 404
    assert client.get(f"{URL}/99999999999", headers=bearer(tokens["guide"])).status_code == 404
    assert client.get(URL, query_string={"overdue": "maybe"},
                      headers=bearer(tokens["guide"])).status_code == 422
