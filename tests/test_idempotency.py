from datetime import timedelta

from sqlalchemy import func, select

from citizencenter.accounts.service import authenticate
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.idempotency import IdempotencyKey, request_fingerprint
from tests.factories import bearer, case_payload


def _post(client, token, key, body):
    return client.post("/api/v1/cases", json=body,
                       headers={**bearer(token), "Idempotency-Key": key})


def _case_count(session):
    return session.scalar(select(func.count()).select_from(Case))


def test_same_key_and_body_gives_the_same_response_once(client, tokens, session):
    body = case_payload()
    before = _case_count(session)
    first = _post(client, tokens["guide"], "key-1", body)
    second = _post(client, tokens["guide"], "key-1", body)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _case_count(session) == before + 1


def test_key_order_in_json_does_not_matter(client, tokens, session):
    body = case_payload()
    first = _post(client, tokens["guide"], "key-order", body)
    reordered = dict(reversed(list(body.items())))
    assert _post(client, tokens["guide"], "key-order", reordered).get_json() == first.get_json()


def test_same_key_other_body_is_422(client, tokens, session):
    _post(client, tokens["guide"], "key-2", case_payload())
    before = _case_count(session)
    response = _post(client, tokens["guide"], "key-2", case_payload(subject="Annat"))
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/idempotency-key-reused")
    assert _case_count(session) == before


def test_key_still_in_flight_is_409(client, tokens, session):
    body = case_payload()
    with client.application.test_request_context("/api/v1/cases", method="POST", json=body):
        fingerprint = request_fingerprint()
    owner = authenticate(session, tokens["guide"]).actor
    record = IdempotencyKey(owner=owner, key="key-3", fingerprint=fingerprint,
                            locked_at=utcnow())
    session.add(record)
    session.commit()
    before = _case_count(session)
    response = _post(client, tokens["guide"], "key-3", body)
    assert response.status_code == 409
    assert _case_count(session) == before
    # A lock left by a request that died long ago is taken over.
    record.locked_at = utcnow() - timedelta(minutes=10)
    session.commit()
    assert _post(client, tokens["guide"], "key-3", body).status_code == 201


def test_keys_belong_to_their_caller(client, tokens, session):
    body = case_payload()
    first = _post(client, tokens["guide"], "shared", body)
    other = _post(client, tokens["supervisor"], "shared", body)
    assert first.status_code == other.status_code == 201
    assert first.get_json()["id"] != other.get_json()["id"]


def test_failed_requests_release_their_key(client, tokens, session):
    bad = case_payload(category="astrologi")
    assert _post(client, tokens["guide"], "key-4", bad).status_code == 422
    good = case_payload()
    assert _post(client, tokens["guide"], "key-4", good).status_code == 201


def test_bad_keys_are_400(client, tokens):
    for key in ("", "x" * 256, "tab\there"):
        response = _post(client, tokens["guide"], key, case_payload())
        assert response.status_code == 400, key


def test_messages_honour_keys_too(client, tokens, session):
    case = _post(client, tokens["guide"], "case-for-messages", case_payload()).get_json()
    url = f"/api/v1/cases/{case['id']}/messages"
    headers = {**bearer(tokens["guide"]), "Idempotency-Key": "note-1"}
    body = {"direction": "internal", "body": "Notering"}
    assert client.post(url, json=body, headers=headers).status_code == 201
    assert client.post(url, json=body, headers=headers).status_code == 201
    assert len(client.get(url, headers=bearer(tokens["guide"])).get_json()["items"]) == 2


def test_concurrent_requests_with_one_key_create_one_case(app, committed):
    from concurrent.futures import ThreadPoolExecutor

    from citizencenter import db
    from citizencenter.accounts import service as accounts

    _, token = accounts.create_token(committed, "concurrent", role="guide")
    body = case_payload(subject="Samtidigt")

    def post(_):
        with app.test_client() as client:
            try:
                return _post(client, token, "same-key", body).status_code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(8)))
    assert set(statuses) <= {201, 409} and 201 in statuses
    db.session.remove()
    created = committed.scalar(select(func.count()).select_from(Case)
                               .where(Case.subject == "Samtidigt"))
    assert created == 1


def test_a_fresh_key_is_taken_in_one_statement(client, tokens, engine):
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "idempotency_keys" in statement:
            seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _post(client, tokens["guide"], "fresh-key", case_payload()).status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen == ["INSERT", "UPDATE"]  # take the key, keep the response; no read
