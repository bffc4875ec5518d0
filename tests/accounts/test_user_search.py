"""Finding users among thousands: GET /api/v1/users by name or e-mail address (any
letter case, Å, Ä and Ö included), role, department and account state, a page at a time."""

import pytest
from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from tests.factories import bearer


@pytest.fixture
def staff(session) -> list[int]:
    """60 department staff of two departments, some of them switched off."""
    ids = []
    for n in range(60):
        department = "stadsbyggnad" if n % 2 else "tekniska"
        user = accounts.create_user(session, f"handl{n:02d}@lund.example",
                                    f"Åsa Öberg {n:02d}" if n % 3 == 0 else f"Per Nilsson {n:02d}",
                                    "department", department)
        user.active = n % 5 != 0
        ids.append(user.id)
    session.commit()
    return ids


def _all_pages(client, token, query: str, limit: int = 25) -> list[dict]:
    items, cursor = [], None
    while True:
        url = f"/api/v1/users?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(url, headers=bearer(token))
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_every_user_once_by_name_over_the_pages(client, tokens, session, staff):
    listed = _all_pages(client, tokens["admin"], "")
    everyone = session.execute(select(User.id, User.name)).all()
    assert sorted(u["id"] for u in listed) == sorted(row.id for row in everyone)
    assert [(u["name"], u["id"]) for u in listed] == sorted((row.name, row.id) for row in everyone)


def test_by_name_or_address_in_any_letter_case(client, tokens, staff):
    found = _all_pages(client, tokens["admin"], "&q=%C3%A5SA%20%C3%B6B")  # "åSA öB"
    assert len(found) == 20 and all(u["name"].startswith("Åsa Öberg") for u in found)
    by_address = _all_pages(client, tokens["admin"], "&q=HANDL0")
    assert sorted(u["email"] for u in by_address) == [f"handl{n:02d}@lund.example"
                                                      for n in range(10)]
    none = client.get("/api/v1/users?q=100%25_", headers=bearer(tokens["admin"]))
    assert none.status_code == 200 and none.get_json()["items"] == []  # % and _ are text


def test_by_role_department_and_state(client, tokens, staff):
    found = _all_pages(client, tokens["admin"],
                       "&role=department&department=tekniska&active=false")
    assert sorted(u["email"] for u in found) == [f"handl{n:02d}@lund.example"
                                                 for n in range(0, 60, 10)]
    assert all(u["role"] == "department" and u["department"] == "tekniska"
               and not u["active"] for u in found)
    guides = _all_pages(client, tokens["admin"], "&role=guide&active=true")
    assert guides and all(u["role"] == "guide" and u["active"] for u in guides)


@pytest.mark.parametrize("query,field", [
    ("role=boss", "role"), ("active=yes", "active"), ("limit=0", "limit"),
    ("q=" + "x" * 201, "q"), ("department=ingen", "department")])
def test_bad_filters_are_problems_naming_the_field(client, tokens, query, field):
    answer = client.get(f"/api/v1/users?{query}", headers=bearer(tokens["admin"]))
    assert answer.status_code in (400, 422), answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert field in str(answer.get_json())


def test_a_cursor_holds_only_for_its_own_filters(client, tokens, staff):
    first = client.get("/api/v1/users?limit=5&role=department",
                       headers=bearer(tokens["admin"])).get_json()
    assert first["next_cursor"]
    moved = client.get(f"/api/v1/users?limit=5&role=guide&cursor={first['next_cursor']}",
                       headers=bearer(tokens["admin"]))
    assert moved.status_code == 400
    assert moved.get_json()["type"].endswith("/invalid-cursor")
    forged = client.get("/api/v1/users?cursor=abc", headers=bearer(tokens["admin"]))
    assert forged.status_code == 400
