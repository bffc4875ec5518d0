from tests.factories import bearer
from tests.knowledge.articles import ARTICLES, QUERIES


def search(client, token, q, **params):
    return client.get("/api/v1/knowledge/search", query_string={"q": q, **params},
                      headers=bearer(token))


def test_the_article_set_is_big_enough():
    assert len(ARTICLES) >= 50 and len({a[0] for a in ARTICLES}) == len(ARTICLES)


def test_every_query_finds_its_article_in_the_top_three(client, tokens, article_set):
    misses = []
    for q, key in QUERIES:
        response = search(client, tokens["guide"], q)
        assert response.status_code == 200, response.get_json()
        top = [hit["article"]["id"] for hit in response.get_json()["items"][:3]]
        if article_set[key] not in top:
            misses.append((q, key, top))
    assert misses == []


def test_compounds_inflections_and_missing_diacritics(client, tokens, article_set):
    for q, key in [("bygglovet", "bygglov"), ("bygglovsansökan", "bygglov"),
                   ("förskoleplatser", "forskoleplats"), ("sophämtning", "sophamtning"),
                   ("sophamtning", "sophamtning")]:
        first = search(client, tokens["guide"], q).get_json()["items"][0]
        assert first["article"]["id"] == article_set[key], q


def test_a_typo_still_finds_the_article(client, tokens, article_set):
    for q, key in [("simhalen", "simhall"), ("fardtjenst", "fardtjanst")]:
        top = [hit["article"]["id"] for hit in search(client, tokens["guide"], q)
               .get_json()["items"][:3]]
        assert article_set[key] in top, q


def test_hits_are_ranked_and_highlighted(client, tokens, article_set):
    items = search(client, tokens["guide"], "sophamtning").get_json()["items"]
    scores = [hit["score"] for hit in items]
    assert scores == sorted(scores, reverse=True)
    assert items[0]["title_html"] == "<mark>Sophämtning</mark> och avfall"
    bygg = search(client, tokens["guide"], "bygglovet").get_json()["items"][0]
    assert "<mark>bygglov</mark>" in bygg["snippet_html"]


def test_snippets_escape_the_article_text(client, tokens, session, article_set):
    from citizencenter.knowledge import service
    from tests.knowledge.conftest import SUPERVISOR
    service.create_article(session, SUPERVISOR, title="Tecken i texten",
                           body="Skriv `<script>` aldrig i en hundrastgård.",
                           department="tekniska", audience="public")
    hit = search(client, tokens["guide"], "hundrastgård").get_json()["items"][0]
    assert "<script>" not in hit["snippet_html"]
    assert "&lt;script&gt;" in hit["snippet_html"]


def test_internal_articles_only_for_staff(client, tokens, session, article_set):
    from citizencenter.accounts import service as accounts
    q = "handläggningstider bygglov"
    staff = [hit["article"]["id"] for hit in search(client, tokens["guide"], q).get_json()["items"]]
    assert article_set["internt-bygglov-ko"] in staff
    token = accounts.create_token(session, "website", scopes=["directory:read"])[1]
    public = search(client, token, q).get_json()["items"]
    assert public and article_set["internt-bygglov-ko"] not in [h["article"]["id"] for h in public]
    assert {h["article"]["audience"] for h in public} == {"public"}
    response = client.get(f"/api/v1/knowledge/articles/{article_set['internt-bygglov-ko']}",
                          headers=bearer(token))
    assert response.status_code == 404


def test_an_edit_is_found_by_its_new_words_only(client, tokens, article_set):
    article_id = article_set["hundar"]
    response = client.patch(f"/api/v1/knowledge/articles/{article_id}",
                            json={"title": "Koppeltvång i parker"},
                            headers={**bearer(tokens["supervisor"]), "If-Match": '"1"'})
    assert response.status_code == 200, response.get_json()
    found = [h["article"]["id"] for h in search(client, tokens["guide"], "koppeltvånget")
             .get_json()["items"]]
    assert found[:1] == [article_id]
    gone = [h["article"]["id"] for h in search(client, tokens["guide"], "hundar")
            .get_json()["items"]]
    # The body still speaks of dogs; the title no longer does.
    assert article_id in gone


def test_search_bad_input_is_problem_json(client, tokens):
    for params in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "bygglov", "limit": 0},
                   {"q": "bygglov", "extra": "1"}):
        response = client.get("/api/v1/knowledge/search", query_string=params,
                              headers=bearer(tokens["guide"]))
        assert response.status_code == 422, params
        assert response.content_type == "application/problem+json"


def test_search_without_matches_and_odd_queries(client, tokens, article_set):
    for q in ("zzzzzz", "och", "!!!", "a' OR 1=1 --", '"bygglov'):
        response = search(client, tokens["guide"], q)
        assert response.status_code == 200, q
    assert search(client, tokens["guide"], "zzzzzz").get_json()["items"] == []
