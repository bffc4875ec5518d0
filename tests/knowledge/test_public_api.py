"""The public knowledge API for the municipality's website: no token, public articles only,
cacheable with ETag and Last-Modified, rate limited per client address."""

import pytest
from sqlalchemy import select

from citizencenter.knowledge import service
from tests.conftest import cleared_keys
from tests.knowledge.articles import ARTICLES
from tests.knowledge.conftest import SUPERVISOR

BASE = "/api/v1/public/knowledge"
INTERNAL = {key for key, *_, audience in ARTICLES if audience == "internal"}


@pytest.fixture(autouse=True)
def fresh_limits(redis_server):
    with cleared_keys(redis_server, "citizencenter:knowledge:rate:*"):
        yield


def get(client, path, address="198.51.100.40", **headers):
    return client.get(BASE + path, headers=headers, environ_base={"REMOTE_ADDR": address})


def test_lists_public_articles_only_a_page_at_a_time(client, article_set):
    seen, cursor = [], None
    while True:
        query = "?limit=20" + (f"&cursor={cursor}" if cursor else "")
        response = get(client, "/articles" + query)
        assert response.status_code == 200, response.get_json()
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        page = response.get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    public = {article_set[key] for key in article_set if key not in INTERNAL}
    assert public <= set(seen)
    assert not {article_set[key] for key in INTERNAL} & set(seen)


def test_an_article_shows_what_the_website_may_show(client, article_set):
    response = get(client, f"/articles/{article_set['bygglov']}")
    assert response.status_code == 200
    article = response.get_json()
    assert article["title"] == "Bygglov"
    assert "<strong>bygglov</strong>" in article["body_html"]
    assert set(article) == {"id", "title", "body_html", "category", "tags", "updated_at"}
    assert "public" in response.headers["Cache-Control"]
    internal = get(client, f"/articles/{article_set['internt-bygglov-ko']}")
    assert internal.status_code == 404
    assert internal.content_type == "application/problem+json"
    assert internal.headers["Access-Control-Allow-Origin"] == "*"


def test_a_current_copy_is_answered_with_304_and_a_change_with_200(client, session,
                                                                    article_set):
    path = f"/articles/{article_set['bygglov']}"
    first = get(client, path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    unchanged = get(client, path, **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert get(client, path, **{"If-Modified-Since": last_modified}).status_code == 304
    article = service.read_article(session, SUPERVISOR, article_set["bygglov"])
    service.update_article(session, SUPERVISOR, article.id, article.version,
                           {"body": "Bygglov söker du i e-tjänsten Bygga och bo."})
    changed = get(client, path, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Bygga och bo" in changed.get_json()["body_html"]


def test_an_article_made_internal_leaves_the_website(client, session, article_set):
    path = f"/articles/{article_set['vigsel']}"
    etag = get(client, path).headers["ETag"]
    article = service.read_article(session, SUPERVISOR, article_set["vigsel"])
    service.update_article(session, SUPERVISOR, article.id, article.version,
                           {"audience": "internal"})
    assert get(client, path, **{"If-None-Match": etag}).status_code == 404


def test_search_finds_public_articles_in_swedish(client, article_set):
    response = get(client, "/search?q=bygglovsansökan")
    assert response.status_code == 200
    hits = response.get_json()["items"]
    assert hits[0]["article"]["id"] == article_set["bygglov"]
    assert "<mark>" in hits[0]["title_html"]
    assert article_set["internt-bygglov-ko"] not in [hit["article"]["id"] for hit in hits]
    etag = response.headers["ETag"]
    assert get(client, "/search?q=bygglovsansökan", **{"If-None-Match": etag}).status_code \
        == 304


@pytest.mark.parametrize("path", ["/search", "/search?q=", "/search?q=" + "a" * 201,
                                  "/search?q=bygglov&limit=x", "/search?q=bygglov&limit=500",
                                  "/articles?limit=0", "/articles?cursor=forged",
                                  "/articles?owner=x"])
def test_bad_queries_are_refused_with_a_problem(client, article_set, path):
    response = get(client, path)
    assert response.status_code in (400, 422), path
    assert response.content_type == "application/problem+json"


def test_the_rate_limit_per_address(client, app, article_set, monkeypatch):
    monkeypatch.setitem(app.config, "KNOWLEDGE_PUBLIC_RATE_LIMIT", 3)
    path = f"/articles/{article_set['bygglov']}"
    for _ in range(3):
        assert get(client, path, address="198.51.100.41").status_code == 200
    refused = get(client, path, address="198.51.100.41")
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= app.config[
        "KNOWLEDGE_PUBLIC_RATE_WINDOW_S"]
    assert get(client, path, address="198.51.100.42").status_code == 200


def test_writes_are_not_offered(client, article_set):
    response = client.post(BASE + "/articles", json={"title": "x"})
    assert response.status_code == 405


def test_a_link_put_in_a_reply_names_the_public_address_not_the_staff_host(app, session,
                                                                            article_set):
    from citizencenter.knowledge.models import Article
    from citizencenter.knowledge.pages import insert_text

    public = session.scalar(select(Article).where(Article.audience == "public").limit(1))
    internal = session.scalar(select(Article).where(Article.audience != "public").limit(1))
    path = f"/api/v1/public/knowledge/articles/{public.id}"
    with app.test_request_context(base_url="http://kc.intern.lund.local"):
        app.config["PUBLIC_BASE_URL"], before = "https://medborgare.lund.example/", \
            app.config["PUBLIC_BASE_URL"]
        try:
            assert insert_text(public) == f"{public.title}: https://medborgare.lund.example{path}"
            app.config["PUBLIC_BASE_URL"] = ""  # the embedded run: the host asked
            assert insert_text(public) == f"{public.title}: http://kc.intern.lund.local{path}"
            assert insert_text(internal) == internal.title  # no address to give
        finally:
            app.config["PUBLIC_BASE_URL"] = before
