"""Walk-in visits: cases of a service point, closed at once when settled at the counter."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from tests.factories import bearer

URL = "/api/v1/walk-ins"


def visit(**overrides) -> dict:
    data = {"service_point": "dalby", "visited_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "subject": "Hjälp med e-tjänst för bygglov", "category": "bygglov",
            "description": "Besökaren fick hjälp att logga in med BankID.",
            "resolved_at_first_contact": True}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, tokens, data, who="guide"):
    return client.post(URL, json=data, headers=bearer(tokens[who]))


def test_a_settled_visit_is_a_closed_case_of_its_service_point(client, session, tokens):
    visited_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    response = post(client, tokens, visit(visited_at=visited_at.isoformat(),
                                          duration_minutes=15))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["channel"] == "walk_in" and body["service_point"] == "dalby"
    assert body["status"] == "closed" and body["resolved_at_first_contact"] is True
    assert datetime.fromisoformat(body["received_at"]) == visited_at
    assert datetime.fromisoformat(body["first_response_at"]) == visited_at
    assert datetime.fromisoformat(body["resolved_at"]) == visited_at + timedelta(minutes=15)
    assert datetime.fromisoformat(body["closed_at"]) >= visited_at
    assert response.headers["Location"] == f"/api/v1/cases/{body['id']}"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    actions = session.scalars(select(AuditEntry.action)
                              .where(AuditEntry.entity_id == body["id"])).all()
    assert "case.created" in actions and "case.status_changed" in actions


def test_visits_appear_in_the_case_list_with_their_service_point(client, tokens):
    post(client, tokens, visit(service_point="genarp", subject="Fråga om färdtjänst"))
    post(client, tokens, visit(service_point="kristallen", subject="Parkeringstillstånd",
                               resolved_at_first_contact=False))
    listed = client.get("/api/v1/cases?channel=walk_in&limit=100",
                        headers=bearer(tokens["supervisor"])).get_json()["items"]
    points = {c["subject"]: (c["service_point"], c["status"]) for c in listed}
    assert points["Fråga om färdtjänst"] == ("genarp", "closed")
    assert points["Parkeringstillstånd"] == ("kristallen", "new")
    others = client.get("/api/v1/cases?channel=phone&limit=100",
                        headers=bearer(tokens["supervisor"])).get_json()["items"]
    assert all(c["service_point"] is None for c in others)


def test_an_unsettled_visit_stays_new_for_routing(client, session, tokens):
    body = post(client, tokens, visit(resolved_at_first_contact=False,
                                      contact={"name": "Karin Ek", "phone": "070-123 45 67"}
                                      )).get_json()
    case = session.get(Case, __import__("uuid").UUID(body["id"]))
    assert case.status == "new" and case.resolved_at is None and case.closed_at is None
    assert case.contact.phone == "+46701234567"
    assert case.service_point.slug == "dalby"


def test_a_visit_that_just_ended_is_not_resolved_in_the_future(client, tokens):
    just_now = utcnow() - timedelta(minutes=1)
    body = post(client, tokens, visit(visited_at=just_now.isoformat(),
                                      duration_minutes=30)).get_json()
    assert datetime.fromisoformat(body["resolved_at"]) <= utcnow()


@pytest.mark.parametrize(("data", "field"), [
    (visit(visited_at=(utcnow() + timedelta(hours=1)).isoformat()), "visited_at"),
    (visit(visited_at="2026-11-27T10:00:00"), "visited_at"),
    (visit(service_point="malmo"), "service_point"),
    (visit(category="ingen"), "category"),
    (visit(resolved_at_first_contact=None), "resolved_at_first_contact"),
    (visit(duration_minutes=0), "duration_minutes"),
    (visit(subject=""), "subject"),
    (visit(queue="besok"), "queue"),
    (visit(contact={"phone": "x"}), "contact.phone"),
])
def test_invalid_visits_are_422(client, session, tokens, data, field):
    response = post(client, tokens, data)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert session.scalar(select(Case).where(Case.channel == "walk_in",
                                             Case.subject == data.get("subject", "-"),
                                             Case.service_point_id.is_not(None))) is None


def test_guides_need_a_token_with_cases_write(client, tokens, session):
    assert client.post(URL, json=visit()).status_code == 401
    from citizencenter.accounts import service as accounts
    _, read_only = accounts.create_token(session, "läsare", scopes=["cases:read"])
    response = client.post(URL, json=visit(), headers=bearer(read_only))
    assert response.status_code == 403 and response.content_type == "application/problem+json"


def test_idempotency_key_registers_a_visit_once(client, session, tokens):
    data = visit(subject="Hämtade blankett för färdtjänst")
    headers = {**bearer(tokens["guide"]), "Idempotency-Key": "visit-0042"}
    first = client.post(URL, json=data, headers=headers)
    again = client.post(URL, json=data, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(session.scalars(select(Case.id).where(
        Case.subject == "Hämtade blankett för färdtjänst")).all()) == 1
