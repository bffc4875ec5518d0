import pytest

from citizencenter.accounts import service as accounts
from citizencenter.db import utcnow
from tests.factories import bearer, case_payload


@pytest.mark.parametrize("header", [
    None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer cc_not-a-real-token", "cc_abc",
])
def test_requests_without_a_valid_token_are_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_401(client, session):
    token, secret = accounts.create_token(session, "soon gone", role="guide")
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    token.revoked_at = utcnow()
    session.commit()
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401
    token2, secret2 = accounts.create_token(session, "expired", role="guide")
    token2.expires_at = utcnow()
    session.commit()
    assert client.get("/api/v1/cases", headers=bearer(secret2)).status_code == 401


def test_integration_scopes_are_enforced(client, tokens, session):
    # An integration allowed to post calls cannot read cases.
    response = client.get("/api/v1/cases", headers=bearer(tokens["integration"]))
    assert response.status_code == 403
    assert "cases:read" in response.get_json()["detail"]
    _, reader = accounts.create_token(session, "reader", scopes=["cases:read"])
    assert client.get("/api/v1/cases", headers=bearer(reader)).status_code == 200
    assert client.post("/api/v1/cases", json=case_payload(),
                       headers=bearer(reader)).status_code == 403


def test_health_and_docs_need_no_token(client):
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_tokens_are_stored_hashed(session):
    token, secret = accounts.create_token(session, "hashed", role="guide")
    assert secret not in (token.token_hash, token.prefix) and len(token.token_hash) == 64
    assert token.token_hash == accounts.hash_token(secret)


def test_bad_account_data_is_refused(session):
    with pytest.raises(accounts.InvalidAccount):
        accounts.create_user(session, "x@lund.example", "X", "department")
    with pytest.raises(accounts.InvalidAccount):
        accounts.create_user(session, "y@lund.example", "Y", "janitor")
    with pytest.raises(accounts.InvalidAccount):
        accounts.create_token(session, "t", scopes=["everything"])
