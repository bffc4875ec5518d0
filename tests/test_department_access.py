"""Department staff: a department always, changes only within the forwarding flow, no walk-ins."""

import uuid

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select, update

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import ApiToken, Role, User
from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases_service
from citizencenter.cases.models import Case
from citizencenter.cli import cli
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.routing.models import GuideProfile, Presence
from tests.factories import bearer, create_case


@pytest.fixture(autouse=True)
def nobody_free(session):
    # Routing must not hand the test's cases to a guide behind its back.
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def _forwarded(client, tokens, department: str = "stadsbyggnad") -> dict:
    case = create_case(client, tokens["guide"])
    response = client.post(f"/api/v1/cases/{case['id']}/forward", headers=bearer(tokens["guide"]),
                           json={"department": department, "note": "Till er."})
    assert response.status_code == 201, response.get_json()
    return client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"])).get_json()


def _patch(client, token, case_id, **changes):
    url = f"/api/v1/cases/{case_id}"
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    return client.patch(url, json=changes, headers={**bearer(token), "If-Match": etag})


# Item 5: a department principal without a department sees nothing.

def test_a_department_token_without_a_user_is_refused_at_creation(session):
    before = session.scalar(select(func.count()).select_from(ApiToken))
    with pytest.raises(accounts.InvalidAccount, match="department"):
        accounts.create_token(session, "förvaltning", role="department")
    with pytest.raises(accounts.InvalidAccount, match="department"):
        accounts.create_token(session, "förvaltning", role="department",
                              scopes=["cases:read"])
    with pytest.raises(accounts.InvalidAccount, match="role"):
        accounts.create_token(session, "fel roll", role="department",
                              user_email="anna.lindqvist@lund.example")
    assert session.scalar(select(func.count()).select_from(ApiToken)) == before
    _, secret = accounts.create_token(session, "johan", user_email="johan.berg@lund.example")
    assert accounts.authenticate(session, secret).department_id is not None


def test_the_cli_says_why_it_refuses_a_department_token(app, session):
    result = CliRunner().invoke(cli, ["create-token", "--name", "x", "--role", "department"],
                                obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)
    assert result.exit_code == 1
    assert "Error: A department token must act as a department staff user" in result.output


def test_existing_department_tokens_without_a_department_see_nothing(client, session, tokens):
    create_case(client, tokens["guide"])
    # Stored before creation refused them: a bare role token, and a user who lost the
    # department (users.department_id is nullable).
    bare = "cc_bare-department-token"
    session.add(ApiToken(name="gammal", prefix=bare[:10], token_hash=accounts.hash_token(bare),
                         role=Role.DEPARTMENT, scopes=[]))
    accounts.create_user(session, "lisa.holm@lund.example", "Lisa Holm", "department", "miljo")
    _, lisa = accounts.create_token(session, "lisa", user_email="lisa.holm@lund.example")
    session.execute(update(User).where(User.email == "lisa.holm@lund.example")
                    .values(department_id=None))
    session.commit()
    for token in (bare, lisa):
        response = client.get("/api/v1/cases?limit=100", headers=bearer(token))
        assert response.status_code == 401, response.get_json()
        assert response.content_type == "application/problem+json"
    # And whatever builds such a principal elsewhere sees no case, never all of them.
    nobody = Principal(actor="user:0", scopes=accounts.ROLE_SCOPES[Role.DEPARTMENT],
                       role=Role.DEPARTMENT, department_id=None)
    assert session.scalar(select(func.count()).select_from(Case)) > 0
    assert session.scalars(cases_service.visible_cases(nobody)).all() == []


# Item 6: department staff change only what the forwarding flow lets them.

@pytest.mark.parametrize("changes, field", [
    ({"queue": "kontaktcenter"}, "queue"),
    ({"queue": None}, "queue"),
    ({"category": "avfall"}, "category"),
    ({"status": "open"}, "status"),
    ({"resolved_at_first_contact": True}, "resolved_at_first_contact"),
    ({"subject": "Annat ämne"}, "subject"),
    ({"assignee": "guide"}, "assignee"),
    ({"assignee": "supervisor"}, "assignee"),
    ({"priority": "high", "queue": "kontaktcenter"}, "queue"),
])
def test_department_staff_cannot_move_a_case_or_hand_it_to_a_guide(client, session, tokens,
                                                                   changes, field):
    case = _forwarded(client, tokens)
    users = {"guide": _user(session, "anna.lindqvist@lund.example").id,
             "supervisor": _user(session, "maria.svensson@lund.example").id}
    if changes.get("assignee") in users:
        changes = {**changes, "assignee": users[changes["assignee"]]}
    response = _patch(client, tokens["department"], case["id"], **changes)
    assert response.status_code == 403, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    after = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"]))
    assert after.get_json() == case  # nothing changed, not even the version


def test_department_staff_cannot_unassign_a_guide(client, session, tokens):
    case = _forwarded(client, tokens)
    anna = _user(session, "anna.lindqvist@lund.example")
    session.execute(update(Case).where(Case.id == uuid.UUID(case["id"]))
                    .values(assignee_id=anna.id, version=Case.version + 1))
    session.commit()
    response = _patch(client, tokens["department"], case["id"], assignee=None)
    assert response.status_code == 403
    assert response.get_json()["errors"][0]["field"] == "assignee"
    assert session.get(Case, uuid.UUID(case["id"])).assignee_id == anna.id


def test_department_staff_take_prioritise_and_resolve_their_case(client, session, tokens):
    case = _forwarded(client, tokens)
    johan = _user(session, "johan.berg@lund.example")
    colleague = accounts.create_user(session, "sara.ek@lund.example", "Sara Ek", "department",
                                     "stadsbyggnad")
    auth = tokens["department"]
    taken = _patch(client, auth, case["id"], assignee=johan.id, priority="high")
    assert taken.status_code == 200, taken.get_json()
    assert taken.get_json()["assignee"]["id"] == johan.id
    assert taken.get_json()["priority"] == "high"
    handed = _patch(client, auth, case["id"], assignee=colleague.id)
    assert handed.status_code == 200 and handed.get_json()["assignee"]["id"] == colleague.id
    assert _patch(client, auth, case["id"], assignee=None).status_code == 200
    resolved = _patch(client, auth, case["id"], status="resolved")
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert body["status"] == "resolved" and body["department"] == "stadsbyggnad"
    assert body["resolved_at_first_contact"] is False
    assert _patch(client, auth, case["id"], status="closed").status_code == 200


def test_guides_still_change_what_they_may(client, session, tokens):
    case = _forwarded(client, tokens)
    response = _patch(client, tokens["supervisor"], case["id"], priority="urgent",
                      category="avfall")
    assert response.status_code == 200, response.get_json()


# Item 8: walk-ins are the guides' work; department staff are refused before anything is stored.

@pytest.mark.parametrize("settled", [True, False])
def test_department_staff_cannot_register_a_walk_in(client, session, tokens, settled):
    before = session.scalar(select(func.count()).select_from(Case))
    response = client.post("/api/v1/walk-ins", headers=bearer(tokens["department"]), json={
        "service_point": "kristallen", "visited_at": utcnow().isoformat(),
        "subject": "Fråga om bygglov", "resolved_at_first_contact": settled})
    assert response.status_code == 403, response.get_json()
    assert response.content_type == "application/problem+json"
    assert "guides" in response.get_json()["detail"]
    assert session.scalar(select(func.count()).select_from(Case)) == before


def test_department_staff_cannot_open_a_case(client, session, tokens):
    """They work on what the centre forwards them; nothing is stored, not even a contact."""
    cases_before = session.scalar(select(func.count()).select_from(Case))
    contacts_before = session.scalar(select(func.count()).select_from(Contact))
    response = client.post("/api/v1/cases", headers=bearer(tokens["department"]), json={
        "channel": "email", "subject": "Eget ärende", "description": "Text.",
        "contact": {"name": "Ny Person", "email": "ny.person.dept@example.se"}})
    assert response.status_code == 403, response.get_json()
    assert response.content_type == "application/problem+json"
    assert "forwarded" in response.get_json()["detail"]
    assert session.scalar(select(func.count()).select_from(Case)) == cases_before
    assert session.scalar(select(func.count()).select_from(Contact)) == contacts_before


@pytest.mark.parametrize("role, changes, field", [
    ("guide", {"department": "miljo"}, "department"),
    ("guide", {"status": "forwarded"}, "status"),
    ("supervisor", {"department": None}, "department"),
    ("supervisor", {"status": "forwarded", "priority": "high"}, "status"),
    ("department", {"department": "miljo"}, "department"),
    ("department", {"department": None}, "department"),
])
def test_no_one_moves_a_case_between_departments_by_patch(client, tokens, role, changes, field):
    case = _forwarded(client, tokens) if role == "department" else create_case(
        client, tokens["guide"])
    before = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"])).get_json()
    response = _patch(client, tokens[role], case["id"], **changes)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    after = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"])).get_json()
    assert after == before
