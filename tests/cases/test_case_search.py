"""GET /api/v1/cases?q=: Swedish full-text search over a case's subject, messages and notes.

Every case here carries a word of its own (`_tag`), asked for with the query, so cases other
tests left in the database never answer it.
"""

import secrets
import uuid

import pytest
from sqlalchemy import select, update

from citizencenter.cases.models import Case
from citizencenter.organisation.models import Queue
from tests.factories import bearer, create_case


def _tag() -> str:
    return "zq" + secrets.token_hex(4)


def _note(client, token: str, case_id: str, body: str) -> None:
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(token),
                           json={"direction": "internal", "body": body})
    assert response.status_code == 201, response.get_json()


def _search(client, token: str, q: str, **params) -> dict:
    response = client.get("/api/v1/cases", query_string={"q": q, **params},
                          headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _found(client, token: str, q: str) -> list[str]:
    return [item["id"] for item in _search(client, token, q)["items"]]


@pytest.fixture
def cases(client, tokens) -> dict:
    """Three cases whose words are only in a message or a note, never in the subject."""
    token, tag = tokens["supervisor"], _tag()
    permit = create_case(client, token, subject="Fråga från medborgare",
                         description=f"Hej! Hur går det med bygglovet för vårt plank? {tag}")
    preschool = create_case(client, token, subject="Fråga från medborgare",
                            description=f"Vi söker en förskoleplats i Genarp. {tag}")
    waste = create_case(client, token, subject="Fråga från medborgare",
                        description=f"Ett samtal. {tag}")
    _note(client, token, waste["id"], f"Ringde om Sophämtningen på Dalbyvägen. {tag}")
    return {"tag": tag, "permit": permit["id"], "preschool": preschool["id"],
            "waste": waste["id"]}


@pytest.mark.parametrize(("query", "expected", "where"), [
    ("bygglov", "permit", "message"),  # "bygglovet" in the message: inflection
    ("bygglovsansökan", "permit", "message"),  # a compound of it
    ("bygglovet", "permit", "message"),
    ("förskoleplatser", "preschool", "message"),  # plural for singular
    ("forskoleplats", "preschool", "message"),  # typed without diacritics
    ("sophamtning", "waste", "note"),  # in the note, without diacritics
    ("Sophämtning", "waste", "note"),
])
def test_swedish_words_find_a_case_by_its_message_or_its_note(client, tokens, cases, query,
                                                              expected, where):
    page = _search(client, tokens["supervisor"], f"{query} {cases['tag']}")
    assert [item["id"] for item in page["items"]] == [cases[expected]]
    match = page["items"][0]["match"]
    assert match["in"] == where
    assert "<mark>" in match["snippet"] and cases["tag"] in match["snippet"]


def test_every_query_word_must_match(client, tokens, cases):
    token, tag = tokens["supervisor"], cases["tag"]
    assert set(_found(client, token, tag)) == {cases["permit"], cases["preschool"],
                                               cases["waste"]}
    assert _found(client, token, f"plank {tag}") == [cases["permit"]]
    assert _found(client, token, f"plank förskoleplats {tag}") == []


def test_a_word_typed_in_part_finds_the_whole_word(client, tokens, cases):
    # A guide types the beginning of a word, as the subject filter has always allowed.
    assert _found(client, tokens["supervisor"], f"Dalbyv {cases['tag']}") == [cases["waste"]]


def test_the_subject_weighs_more_than_a_message_and_a_message_more_than_a_note(client,
                                                                              tokens):
    token, tag = tokens["supervisor"], _tag()
    # Made best first, so the newest-first order of the plain list is the wrong one.
    in_subject = create_case(client, token, subject=f"Gatubelysningen {tag}",
                             description="Ett samtal.")
    in_message = create_case(client, token, subject="Ärende",
                             description=f"Gatubelysningen är trasig. {tag}")
    in_note = create_case(client, token, subject="Ärende", description="Ett samtal.")
    _note(client, token, in_note["id"], f"Gatubelysningen är trasig. {tag}")
    page = _search(client, token, f"gatubelysning {tag}")
    assert [item["id"] for item in page["items"]] == [in_subject["id"], in_message["id"],
                                                      in_note["id"]]
    assert [item["match"]["in"] for item in page["items"]] == ["subject", "message", "note"]


def test_the_ranked_list_pages_with_a_cursor(client, tokens):
    token, tag = tokens["supervisor"], _tag()
    made = {create_case(client, token, subject=f"Parkeringstillstånd {n} {tag}")["id"]
            for n in range(5)}
    first = _search(client, token, f"parkering {tag}", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = _search(client, token, f"parkering {tag}", limit=2, cursor=cursor)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(made)


def test_a_search_sorted_by_newest_pages_through_every_match_newest_first(client, tokens,
                                                                        monkeypatch):
    """Relevance orders a search's newest matches only (PostgreSQL, `RANK_CANDIDATES`);
    sorted by newest, a search is the list's own order through every match."""
    from citizencenter.cases import search

    monkeypatch.setattr(search, "RANK_CANDIDATES", 2)
    token, tag = tokens["supervisor"], _tag()
    # The older the case, the better its match (in the subject, not in a note), so
    # relevance's order is not the newest-first one.
    made = []
    for n in range(5):
        if n < 2:
            made.append(create_case(client, token, subject=f"Parkeringstillstånd {n} {tag}",
                                    description="Ett samtal.")["id"])
        else:
            made.append(create_case(client, token, subject=f"Fråga {n}",
                                    description="Ett samtal.")["id"])
            _note(client, token, made[-1], f"Parkeringstillstånd {tag}")
    create_case(client, token, subject=f"Bygglov {tag}")  # the tag alone: not a match
    seen, cursor = [], None
    while True:
        page = _search(client, token, f"parkering {tag}", sort="newest", limit=2,
                       **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [item["id"] for item in seen] == made[::-1]
    assert [item["match"]["in"] for item in seen] == ["note"] * 3 + ["subject"] * 2
    assert all("<mark>Parkeringstillstånd</mark>" in item["match"]["snippet"] for item in seen)
    relevant = _search(client, token, f"parkering {tag}", limit=5)["items"]
    assert [item["id"] for item in relevant] != made[::-1]


def test_a_cursor_holds_to_the_order_it_was_made_for(client, tokens):
    token, tag = tokens["supervisor"], _tag()
    for n in range(3):
        create_case(client, token, subject=f"Parkeringstillstånd {n} {tag}")
    cursor = _search(client, token, f"parkering {tag}", sort="newest", limit=1)["next_cursor"]
    response = client.get("/api/v1/cases", headers=bearer(token), query_string={
        "q": f"parkering {tag}", "limit": 1, "cursor": cursor})
    assert response.status_code == 400, response.get_json()
    assert response.content_type == "application/problem+json"
    assert "other filters" in response.get_json()["detail"]


def test_the_snippet_is_escaped_html_with_the_matched_words_marked(client, tokens):
    token, tag = tokens["supervisor"], _tag()
    case = create_case(client, token, subject="Fråga", description=(
        f"<script>alert(1)</script> Gatlyktan vid skolan är släckt. {tag}"))
    item = _search(client, token, f"gatlykta {tag}")["items"][0]
    assert item["id"] == case["id"]
    assert "<script>" not in item["match"]["snippet"]
    assert "&lt;script&gt;" in item["match"]["snippet"]
    assert "<mark>Gatlyktan</mark>" in item["match"]["snippet"]


def test_a_personnummer_is_never_found_in_clear(client, tokens):
    token, tag = tokens["supervisor"], _tag()
    create_case(client, token, subject="Fråga",
                description=f"Mitt personnummer är 19121212-1212. {tag}")
    for q in (f"191212121212 {tag}", f"19121212-1212 {tag}", f"1212 {tag}"):
        body = client.get("/api/v1/cases", query_string={"q": q},
                          headers=bearer(token)).get_data(as_text=True)
        assert "1212-1212" not in body and "121212121" not in body
    assert _found(client, token, f"191212121212 {tag}") == []


def test_without_q_the_list_has_no_match_field(client, tokens):
    create_case(client, tokens["supervisor"])  # the list is not empty whatever ran before
    page = client.get("/api/v1/cases?limit=5", headers=bearer(tokens["supervisor"])).get_json()
    assert page["items"] and all("match" not in item for item in page["items"])


@pytest.mark.parametrize(("query", "field"), [
    ("", "q"),
    ("x" * 201, "q"),
    ("bygg\x00lov", "q"),
    ("bygg\nlov", "q"),
    ("%%% !!", "q"),  # no word to search for
])
def test_bad_queries_are_refused_as_problems(client, tokens, query, field):
    response = client.get("/api/v1/cases", query_string={"q": query},
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert field in {error["field"].split(".")[0] for error in problem["errors"]}, problem


@pytest.mark.parametrize("params", [
    {"sort": "relevance"},  # relevance orders a search: without q there is none
    {"sort": "oldest", "q": "bygglov"},
    {"sort": "", "q": "bygglov"},
])
def test_a_bad_sort_is_refused_as_a_problem(client, tokens, params):
    response = client.get("/api/v1/cases", query_string=params,
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert "sort" in {error["field"].split(".")[0] for error in problem["errors"]}, problem


def test_a_search_within_a_queue_and_status_follows_every_change_of_the_case(client, tokens,
                                                                            session):
    """A search filtered by queue and status finds a case by its current queue and status,
    whether the API changed them or a bulk statement did (as routing writes cases)."""
    token, tag = tokens["supervisor"], _tag()
    case = create_case(client, token, subject=f"Gatubelysning ur funktion {tag}")
    url, auth = f"/api/v1/cases/{case['id']}", bearer(token)

    def found(**filters) -> bool:
        return case["id"] in [item["id"] for item in _search(client, token, tag, **filters)
                              ["items"]]

    def patch(**changes) -> None:
        current = client.get(url, headers=auth)
        response = client.patch(url, json=changes,
                                headers={**auth, "If-Match": current.headers["ETag"]})
        assert response.status_code == 200, response.get_json()

    assert found(status="new") and not found(queue="bygglov")
    patch(queue="bygglov")
    assert found(queue="bygglov", status="new") and not found(queue="bygglov", status="open")
    patch(status="open")
    assert found(queue="bygglov", status="open") and not found(status="new")
    session.execute(update(Case).where(Case.id == uuid.UUID(case["id"])).values(
        queue_id=select(Queue.id).where(Queue.slug == "epost").scalar_subquery()))
    session.commit()
    assert found(queue="epost", status="open") and not found(queue="bygglov")
