"""Case search (GET /api/v1/cases?q=) keeps every access rule of the case list, as a matrix:
who finds which case, and whose answer may hold a confidential case's words."""

import secrets
import uuid

import pytest
from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.cases.models import Case
from citizencenter.organisation.models import Department
from tests.factories import bearer, create_case

SECRET = "Hemlighetsord"  # only in the confidential case's message and note


@pytest.fixture
def callers(client, session, tokens) -> dict:
    """The demo guide, stadsbyggnad's staff (johan), another department's staff, a
    supervisor, an admin; and a guide, a supervisor and an admin with cases:protected."""
    issued = {kind: tokens[kind] for kind in ("guide", "department", "supervisor", "admin")}
    other = accounts.create_user(session, f"annan.{secrets.token_hex(4)}@lund.example",
                                 "Eva Annan", "department", "tekniska")
    issued["other_department"] = accounts.create_token(session, "annan förvaltning",
                                                       user_email=other.email)[1]
    for kind in ("guide", "supervisor"):
        user = accounts.create_user(session, f"{kind}.{secrets.token_hex(4)}@lund.example",
                                    f"Behörig {kind}", kind, None)
        granted = client.put(f"/api/v1/users/{user.id}/protected-access",
                             headers=bearer(tokens["admin"]))
        assert granted.status_code == 200, granted.get_json()
        issued[f"{kind}+"] = accounts.create_token(session, f"behörig {kind}",
                                                   user_email=user.email)[1]
    issued["admin+"] = accounts.create_token(session, "behörig admin", role="admin",
                                             scopes=["cases:protected"])[1]
    session.commit()
    return issued


@pytest.fixture
def world(client, session, callers) -> dict:
    """Four cases that all hold `tag`: one at the centre, one forwarded to stadsbyggnad, one
    of stadsbyggnad's marked confidential, one of a citizen with a protected identity."""
    tag = "zq" + secrets.token_hex(4)
    token = callers["supervisor"]
    stadsbyggnad = session.scalar(select(Department.id).where(Department.slug == "stadsbyggnad"))
    centre = create_case(client, token, subject="Fråga om taxa",
                         description=f"Vad kostar en tömning? {tag}")["id"]
    forwarded = create_case(client, token, subject="Fråga om strandskydd",
                            description=f"Får jag bygga en brygga? {tag}")["id"]
    confidential = create_case(client, token, subject="Orosanmälan",
                               description=f"{SECRET} står i anmälan. {tag}")["id"]
    note = client.post(f"/api/v1/cases/{confidential}/messages", headers=bearer(token),
                       json={"direction": "internal", "body": f"Anteckning: {SECRET}. {tag}"})
    assert note.status_code == 201, note.get_json()
    protected = create_case(client, token, subject="Fråga om plank",
                            description=f"Får jag sätta upp ett plank? {tag}",
                            contact={"name": "Sara Skyddad",
                                     "email": f"sara.{tag}@example.se"})["id"]
    erik = session.scalar(select(User.id).where(User.email == "erik.johansson@lund.example"))
    for case_id in (forwarded, confidential):
        session.get(Case, uuid.UUID(case_id)).department_id = stadsbyggnad
    session.get(Case, uuid.UUID(confidential)).assignee_id = erik
    contact_id = session.get(Case, uuid.UUID(protected)).contact_id
    session.commit()
    marked = client.put(f"/api/v1/cases/{confidential}/confidentiality", headers=bearer(token),
                        json={"reason": "26 kap. 1 § OSL"})
    assert marked.status_code == 200, marked.get_json()
    shielded = client.put(f"/api/v1/contacts/{contact_id}/protection",
                          json={"kind": "skyddad_folkbokforing"}, headers=bearer(token))
    assert shielded.status_code == 200, shielded.get_json()
    return {"tag": tag, "centre": centre, "forwarded": forwarded,
            "confidential": confidential, "protected": protected}


# Which cases a search for the shared word finds, per caller. Department staff find their
# department's cases only; the confidential case's words only its department, supervisors
# and admins (the demo guide is not its assignee); the protected citizen's case only those
# with cases:protected.
EXPECTED = {
    "guide": {"centre", "forwarded"},
    "department": {"forwarded", "confidential"},
    "other_department": set(),
    "supervisor": {"centre", "forwarded", "confidential"},
    "admin": {"centre", "forwarded", "confidential"},
    "guide+": {"centre", "forwarded", "protected"},
    "supervisor+": {"centre", "forwarded", "confidential", "protected"},
    "admin+": {"centre", "forwarded", "confidential", "protected"},
}


@pytest.mark.parametrize("sort", ["relevance", "newest"])
@pytest.mark.parametrize("caller", sorted(EXPECTED))
def test_a_search_finds_what_the_caller_may_see_and_nothing_more(client, callers, world,
                                                                 caller, sort):
    headers = bearer(callers[caller])
    names = {world[name]: name for name in ("centre", "forwarded", "confidential",
                                            "protected")}
    response = client.get("/api/v1/cases", query_string={"q": world["tag"], "sort": sort},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    found = {names[item["id"]] for item in response.get_json()["items"]}
    assert found == EXPECTED[caller]
    # The confidential case's words: found (with a snippet) only by those who may read it.
    response = client.get("/api/v1/cases", headers=headers, query_string={
        "q": f"hemlighetsordet {world['tag']}", "sort": sort})
    items = response.get_json()["items"]
    if "confidential" in EXPECTED[caller]:
        assert [item["id"] for item in items] == [world["confidential"]]
        assert f"<mark>{SECRET}</mark>" in items[0]["match"]["snippet"]
    else:
        assert items == [] and SECRET.lower() not in response.get_data(as_text=True).lower()


def test_the_access_rules_hold_inside_the_ranked_newest_matches(client, callers, world,
                                                                 monkeypatch):
    """PostgreSQL ranks a search's newest matches only (`cases.search.ranked`): those the
    caller may see, so newer cases of others never crowd a department's own out; and the
    documents before the newest few are still searched."""
    from citizencenter.cases import search

    monkeypatch.setattr(search, "RANK_CANDIDATES", 2)
    monkeypatch.setattr(search, "RECENT_DOCUMENTS", 1)
    for n in range(3):  # newer matches the department may not see
        create_case(client, callers["supervisor"], subject=f"Fråga om taxa {n}",
                    description=f"Vad kostar en tömning? {world['tag']}")
    for caller, expected in (("department", {"forwarded", "confidential"}),
                             ("other_department", set())):
        response = client.get("/api/v1/cases", query_string={"q": world["tag"]},
                              headers=bearer(callers[caller]))
        assert response.status_code == 200, response.get_json()
        found = {item["id"] for item in response.get_json()["items"]}
        assert found == {world[name] for name in expected}, caller
