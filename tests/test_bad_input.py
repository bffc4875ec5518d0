"""Bad input on purpose: each gets a clear problem+json error and changes nothing."""

import json

import pytest
from sqlalchemy import func, select

from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.outbox import OutboxMessage
from tests.factories import bearer, case_payload, create_case

JSON = "application/json"


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (Case, Contact, OutboxMessage))


CREATE_CORPUS = [
    # (name, raw body, content type, expected status, field named in errors or None)
    ("malformed json", b'{"channel": "email", "subject": ', JSON, 400, None),
    ("not an object", b'["email"]', JSON, 422, "_schema"),
    ("empty body", b"", JSON, 422, "channel"),
    ("wrong type", json.dumps(case_payload(subject=42)).encode(), JSON, 422, "subject"),
    ("unknown field", json.dumps(case_payload(colour="blue")).encode(), JSON, 422, "colour"),
    ("unknown nested field", json.dumps(case_payload(
        contact={"email": "a@example.se", "ssn": "19121212-1212"})).encode(), JSON, 422,
     "contact.ssn"),
    ("bad enum", json.dumps(case_payload(channel="fax")).encode(), JSON, 422, "channel"),
    ("bad priority", json.dumps(case_payload(priority="asap")).encode(), JSON, 422, "priority"),
    ("missing subject", json.dumps({"channel": "email", "description": "x"}).encode(), JSON,
     422, "subject"),
    ("empty subject", json.dumps(case_payload(subject="")).encode(), JSON, 422, "subject"),
    ("subject too long", json.dumps(case_payload(subject="x" * 301)).encode(), JSON, 422,
     "subject"),
    ("bad email", json.dumps(case_payload(contact={"email": "not-an-address"})).encode(), JSON,
     422, "contact.email"),
    ("bad phone", json.dumps(case_payload(contact={"phone": "12ab"})).encode(), JSON, 422,
     "contact.phone"),
    ("unknown category", json.dumps(case_payload(category="astrologi")).encode(), JSON, 422,
     "category"),
    ("future received_at", json.dumps(case_payload(received_at="2999-01-01T00:00:00Z"))
     .encode(), JSON, 422, "received_at"),
    ("naive received_at", json.dumps(case_payload(received_at="2026-01-01T10:00:00"))
     .encode(), JSON, 422, "received_at"),
    ("form body", b"channel=email&subject=x", "application/x-www-form-urlencoded", 415, None),
    ("text body", b"hello", "text/plain", 415, None),
    ("invalid utf-8", b'{"subject": "\xff\xfe"}', JSON, 400, None),
]


@pytest.mark.parametrize(("name", "body", "content_type", "status", "field"), CREATE_CORPUS,
                         ids=[c[0] for c in CREATE_CORPUS])
def test_bad_case_bodies_are_refused_and_store_nothing(client, tokens, session, name, body,
                                                        content_type, status, field):
    before = _counts(session)
    response = client.post("/api/v1/cases", data=body, content_type=content_type,
                           headers=bearer(tokens["guide"]))
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field:
        assert field in [e["field"] for e in problem["errors"]]
        assert field.split(".")[-1] in problem["detail"]
    assert _counts(session) == before


def test_oversized_body_is_413(client, tokens, session):
    before = _counts(session)
    body = json.dumps(case_payload(description="x" * (2 * 1024 * 1024)))
    response = client.post("/api/v1/cases", data=body, content_type=JSON,
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert _counts(session) == before


@pytest.mark.parametrize(("query", "field"), [
    ("status=sleeping", "status"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("received_from=yesterday", "received_from"),
    ("received_from=2026-02-01T00:00:00Z&received_to=2026-01-01T00:00:00Z", "received_from"),
    ("sort=subject", "sort"),
])
def test_bad_list_queries_are_422(client, tokens, query, field):
    response = client.get(f"/api/v1/cases?{query}", headers=bearer(tokens["guide"]))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert response.get_json()["errors"][0]["location"] == "query"


def test_forged_and_stale_cursors_are_refused(client, tokens):
    auth = bearer(tokens["admin"])
    for _ in range(3):
        create_case(client, tokens["admin"])
    cursor = client.get("/api/v1/cases?limit=1", headers=auth).get_json()["next_cursor"]
    assert cursor
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    for query in (f"cursor={forged}", "cursor=eyJrIjpbXX0", f"cursor={cursor}&channel=phone"):
        response = client.get(f"/api/v1/cases?limit=1&{query}", headers=auth)
        assert response.status_code == 400, query
        assert response.get_json()["type"].endswith("/invalid-cursor")
    # The same cursor for another caller is another query too.
    other = client.get(f"/api/v1/cases?limit=1&cursor={cursor}", headers=bearer(tokens["guide"]))
    assert other.status_code == 400


def test_expired_cursor_is_refused(app, client, tokens, monkeypatch):
    auth = bearer(tokens["admin"])
    for _ in range(2):
        create_case(client, tokens["admin"])
    cursor = client.get("/api/v1/cases?limit=1", headers=auth).get_json()["next_cursor"]
    monkeypatch.setattr(app.extensions["paginator"], "max_age_s", -1)
    response = client.get(f"/api/v1/cases?limit=1&cursor={cursor}", headers=auth)
    assert response.status_code == 400
    assert "expired" in response.get_json()["detail"]


def test_bad_case_ids_are_404(client, tokens):
    auth = bearer(tokens["guide"])
    for path in ("/api/v1/cases/123", "/api/v1/cases/not-a-uuid/messages"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"


def test_bad_message_bodies(client, tokens, session):
    case = create_case(client, tokens["guide"])
    url, auth = f"/api/v1/cases/{case['id']}/messages", bearer(tokens["guide"])
    for body, field in (({"direction": "sideways", "body": "x"}, "direction"),
                        ({"direction": "internal", "body": ""}, "body"),
                        ({"direction": "internal"}, "body"),
                        ({"direction": "internal", "body": "x", "to": "a"}, "to"),
                        ({"direction": "internal", "body": "x", "channel_metadata": [1]},
                         "channel_metadata")):
        response = client.post(url, json=body, headers=auth)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.get_json()["errors"]]
    assert len(client.get(url, headers=auth).get_json()["items"]) == 1


def test_bad_patches(client, tokens):
    case = create_case(client, tokens["guide"])
    url = f"/api/v1/cases/{case['id']}"
    headers = {**bearer(tokens["guide"]), "If-Match": '"1"'}
    for body, field in (({}, "_schema"), ({"status": "done"}, "status"),
                        ({"queue": "nowhere"}, "queue"), ({"version": 5}, "version"),
                        ({"reference": "MC-1"}, "reference")):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.get_json()["errors"]]
    assert client.get(url, headers=bearer(tokens["guide"])).get_json() == case


def test_unknown_route_and_method_are_problems(client, tokens):
    response = client.get("/api/v1/nowhere", headers=bearer(tokens["guide"]))
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    response = client.delete("/api/v1/cases", headers=bearer(tokens["guide"]))
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
