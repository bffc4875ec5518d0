from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case, Message
from citizencenter.outbox import OutboxMessage
from tests.factories import bearer, case_payload, create_case


def test_create_case_answers_201_with_the_case(client, tokens, session):
    response = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json=case_payload(
        channel="phone", priority="high",
        contact={"name": "Karin Ek", "email": "Karin.Ek@Example.se", "phone": "070-123 45 67"}))
    assert response.status_code == 201
    body = response.get_json()
    assert body["reference"].startswith(f"MC-{datetime.now(UTC).year}-")
    assert len(body["reference"]) == len("MC-2026-000123")
    assert body["status"] == "new" and body["channel"] == "phone" and body["priority"] == "high"
    assert body["category"] == "bygglov"
    assert body["contact"]["email"] == "karin.ek@example.se"
    assert body["contact"]["phone"] == "+46701234567"
    assert body["queue"] is None and body["department"] is None and body["assignee"] is None
    assert response.headers["Location"] == f"/api/v1/cases/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    # The case, its first message and the routing work were committed together.
    case = session.get(Case, __import__("uuid").UUID(body["id"]))
    assert case is not None
    assert session.scalar(select(func.count()).select_from(Message)
                          .where(Message.case_id == case.id)) == 1
    outbox_rows = session.scalars(select(OutboxMessage)).all()
    assert {"case_id": body["id"]} in [row.payload for row in outbox_rows]


def test_references_are_sequential_and_ids_are_not(client, tokens):
    first = create_case(client, tokens["guide"])
    second = create_case(client, tokens["guide"])
    assert int(second["reference"][-6:]) == int(first["reference"][-6:]) + 1
    assert first["id"][:8] != second["id"][:8]


def test_read_a_case_with_its_etag(client, tokens):
    created = create_case(client, tokens["guide"])
    response = client.get(f"/api/v1/cases/{created['id']}", headers=bearer(tokens["guide"]))
    assert response.status_code == 200
    assert response.get_json() == created
    assert response.headers["ETag"] == '"1"'


def test_unknown_case_is_404_problem(client, tokens):
    response = client.get("/api/v1/cases/00000000-0000-4000-8000-000000000000",
                          headers=bearer(tokens["guide"]))
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_patch_requires_if_match_and_rejects_stale_versions(client, tokens):
    case = create_case(client, tokens["guide"])
    url, auth = f"/api/v1/cases/{case['id']}", bearer(tokens["guide"])
    missing = client.patch(url, json={"priority": "high"}, headers=auth)
    assert missing.status_code == 428
    stale = client.patch(url, json={"priority": "high"}, headers={**auth, "If-Match": '"7"'})
    assert stale.status_code == 412
    garbage = client.patch(url, json={"priority": "high"}, headers={**auth, "If-Match": "x"})
    assert garbage.status_code == 412
    ok = client.patch(url, json={"priority": "high", "queue": "bygglov"},
                      headers={**auth, "If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.get_json()["priority"] == "high" and ok.get_json()["queue"] == "bygglov"
    assert ok.headers["ETag"] == '"2"'
    # The first writer won; a second writer holding version 1 is refused.
    again = client.patch(url, json={"priority": "low"}, headers={**auth, "If-Match": '"1"'})
    assert again.status_code == 412
    assert client.get(url, headers=auth).get_json()["priority"] == "high"


@pytest.fixture
def read_before_a_worker(monkeypatch):
    """The request reads the case as it was before a worker committed a change of it
    (routing it, or starting its timers): its version is one behind the row's."""
    from sqlalchemy.orm.attributes import set_committed_value

    from citizencenter.cases import service

    read = service.get_case

    def stale_read(*args, **kwargs):
        found = read(*args, **kwargs)
        set_committed_value(found, "version", found.version - 1)
        return found

    monkeypatch.setattr(service, "get_case", stale_read)
    return monkeypatch


def test_a_case_changed_by_a_worker_while_it_is_saved_is_a_412_and_changes_nothing(
        client, tokens, session, read_before_a_worker):
    """Between the If-Match check and the flush the case changed: the save is refused as
    stale, never a 500."""
    case = create_case(client, tokens["guide"])  # no worker: its timers start on this save
    url = f"/api/v1/cases/{case['id']}"
    response = client.patch(url, json={"status": "resolved"},
                            headers={**bearer(tokens["guide"]), "If-Match": '"0"'})
    assert response.status_code == 412, response.get_json()
    assert response.content_type == "application/problem+json"
    read_before_a_worker.undo()
    stored = client.get(url, headers=bearer(tokens["guide"]))
    assert stored.get_json()["status"] == "new" and stored.headers["ETag"] == '"1"'
    session.expire_all()
    assert session.get(Case, __import__("uuid").UUID(case["id"])).sla_started_at is None


def test_a_message_racing_a_worker_on_its_case_is_a_409_and_adds_nothing(
        client, tokens, read_before_a_worker):
    case = create_case(client, tokens["guide"])
    url = f"/api/v1/cases/{case['id']}/messages"
    response = client.post(url, json={"direction": "outbound", "body": "Hej! Vi har tittat."},
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 409, response.get_json()
    assert response.content_type == "application/problem+json"
    read_before_a_worker.undo()
    assert len(client.get(url, headers=bearer(tokens["guide"])).get_json()["items"]) == 1
    retried = client.post(url, json={"direction": "outbound", "body": "Hej! Vi har tittat."},
                          headers=bearer(tokens["guide"]))
    assert retried.status_code == 201, retried.get_json()


def _patch(client, token, case, **changes):
    current = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(token))
    return client.patch(f"/api/v1/cases/{case['id']}", json=changes,
                        headers={**bearer(token), "If-Match": current.headers["ETag"]})


def test_status_follows_the_state_machine(client, tokens, session):
    token = tokens["guide"]
    case = create_case(client, token)
    for status in ("open", "waiting_on_citizen", "open", "resolved", "closed"):
        response = _patch(client, token, case, status=status)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == status
    closed = response.get_json()
    assert closed["resolved_at"] is not None and closed["closed_at"] is not None
    illegal = _patch(client, token, case, status="waiting_on_citizen")
    assert illegal.status_code == 409
    assert illegal.get_json()["type"].endswith("/invalid-transition")
    reopened = _patch(client, token, case, status="open")
    assert reopened.get_json()["resolved_at"] is None
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id == case["id"])).all()
    assert "case.reopened" in actions


def _forward(client, token, case, department):
    response = client.post(f"/api/v1/cases/{case['id']}/forward", headers=bearer(token),
                           json={"department": department, "note": "Till er."})
    assert response.status_code == 201, response.get_json()


def test_cases_are_forwarded_through_forward_not_patch(client, tokens):
    case = create_case(client, tokens["guide"])
    refused = _patch(client, tokens["guide"], case, status="forwarded")
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "status"
    assert "/forward" in refused.get_json()["detail"]
    _forward(client, tokens["guide"], case, "stadsbyggnad")
    forwarded = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"]))
    assert forwarded.get_json()["status"] == "forwarded"
    assert forwarded.get_json()["department"] == "stadsbyggnad"


def test_resolved_at_first_contact_and_assignee(client, tokens, session):
    case = create_case(client, tokens["guide"], channel="walk_in")
    from citizencenter.accounts.models import User
    anna = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    response = _patch(client, tokens["guide"], case, assignee=anna.id, status="resolved",
                      resolved_at_first_contact=True)
    body = response.get_json()
    assert body["assignee"] == {"id": anna.id, "name": "Anna Lindqvist"}
    assert body["resolved_at_first_contact"] is True and body["status"] == "resolved"
    bad = _patch(client, tokens["guide"], case, assignee=999999)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "assignee"


def test_messages_conversation_and_notes(client, tokens):
    case = create_case(client, tokens["guide"])
    url, auth = f"/api/v1/cases/{case['id']}/messages", bearer(tokens["guide"])
    note = client.post(url, json={"direction": "internal", "body": "Ring tillbaka efter 13"},
                       headers=auth)
    assert note.status_code == 201
    assert note.get_json()["author"]["name"] == "Anna Lindqvist"
    reply = client.post(url, json={"direction": "outbound", "body": "Hej! Du behöver inte "
                                   "söka bygglov.", "channel_metadata": {"to": "x"}},
                        headers=auth)
    assert reply.status_code == 201
    listing = client.get(url, headers=auth).get_json()
    assert [m["direction"] for m in listing["items"]] == ["inbound", "internal", "outbound"]
    assert listing["items"][0]["body"] == case_payload()["description"]
    assert listing["next_cursor"] is None
    after = client.get(f"/api/v1/cases/{case['id']}", headers=auth).get_json()
    # The first human reply is the first response; it also opens a new case.
    assert after["first_response_at"] == reply.get_json()["created_at"]
    assert after["status"] == "open"


def test_the_citizen_writing_again_reopens_a_resolved_case(client, tokens):
    case = create_case(client, tokens["guide"])
    _patch(client, tokens["guide"], case, status="resolved")
    client.post(f"/api/v1/cases/{case['id']}/messages", headers=bearer(tokens["guide"]),
                json={"direction": "inbound", "body": "Jag har en följdfråga."})
    after = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"]))
    assert after.get_json()["status"] == "open"


def test_list_filters(client, tokens):
    token = tokens["supervisor"]
    phone = create_case(client, token, channel="phone", subject="Parkeringstillstånd Dalby")
    email = create_case(client, token, channel="email", subject="Felanmälan gatlykta")
    _patch(client, token, email, status="open", queue="kontaktcenter")

    def ids(query):
        response = client.get(f"/api/v1/cases?{query}", headers=bearer(token))
        assert response.status_code == 200, response.get_json()
        return {c["id"] for c in response.get_json()["items"]}

    assert phone["id"] in ids("channel=phone") and email["id"] not in ids("channel=phone")
    assert ids("status=open&queue=kontaktcenter") >= {email["id"]}
    assert phone["id"] not in ids("status=open")
    assert ids("q=parkering") == {phone["id"]}
    assert ids("q=100%25") == set()  # a literal %, not a wildcard
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"received_from={future}") == set()
    assert {phone["id"], email["id"]} <= ids(f"received_to={future}")


def test_paging_through_250_cases(client, tokens, session):
    token = tokens["admin"]
    created = {create_case(client, token, channel="webform")["id"] for _ in range(250)}
    seen, cursor, pages = [], None, 0
    while True:
        query = "channel=webform&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/cases?{query}", headers=bearer(token)).get_json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert created <= set(seen)
    received = [c["received_at"] for c in client.get(
        "/api/v1/cases?channel=webform&limit=100", headers=bearer(token)).get_json()["items"]]
    assert received == sorted(received, reverse=True)


def test_department_staff_see_only_their_department(client, tokens):
    ours = create_case(client, tokens["guide"])
    theirs = create_case(client, tokens["guide"])
    _forward(client, tokens["guide"], ours, "stadsbyggnad")
    _forward(client, tokens["guide"], theirs, "utbildning")
    auth = bearer(tokens["department"])
    assert client.get(f"/api/v1/cases/{ours['id']}", headers=auth).status_code == 200
    # Not 403: the case's existence is not revealed.
    assert client.get(f"/api/v1/cases/{theirs['id']}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/cases/{theirs['id']}/messages", headers=auth).status_code == 404
    listed = {c["id"] for c in client.get("/api/v1/cases?limit=100", headers=auth)
              .get_json()["items"]}
    assert ours["id"] in listed and theirs["id"] not in listed


def test_reference_lists_use_the_same_envelope(client, tokens):
    for path, expected in (("queues", "kontaktcenter"), ("departments", "stadsbyggnad"),
                           ("categories", "bygglov"), ("service-points", "kristallen")):
        body = client.get(f"/api/v1/{path}?limit=2", headers=bearer(tokens["guide"])).get_json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) == 2 and body["next_cursor"]
        assert expected in [i["slug"] for i in body["items"]]
    points = client.get("/api/v1/service-points", headers=bearer(tokens["guide"])).get_json()
    assert [p["slug"] for p in points["items"]] == ["kristallen", "dalby", "genarp", "veberod"]


def test_concurrent_intakes_get_distinct_references(app, committed):
    from concurrent.futures import ThreadPoolExecutor

    from citizencenter import db
    from citizencenter.accounts import service as accounts

    _, token = accounts.create_token(committed, "parallel intake", role="guide")

    def post(_):
        with app.test_client() as client:
            try:
                return create_case(client, token)["reference"]
            finally:
                db.session.remove()

    with ThreadPoolExecutor(8) as pool:
        references = list(pool.map(post, range(40)))
    assert len(set(references)) == 40
    numbers = sorted(int(r[-6:]) for r in references)
    assert numbers[-1] - numbers[0] == 39  # no gaps when nothing rolls back
