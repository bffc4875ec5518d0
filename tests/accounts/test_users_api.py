"""Users, password reset links and API tokens through the API (admins only)."""

import email
import email.policy
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from citizencenter.accounts import passwords, resets
from citizencenter.accounts.models import PasswordReset, Role, User
from citizencenter.db import utcnow
from citizencenter.logs import mask_personal_data
from citizencenter.outbox import OutboxMessage
from citizencenter.routing.models import GuideProfile, Presence
from tests.audit.helpers import entries
from tests.conftest import running_smtp
from tests.factories import bearer

NEW_PASSWORD = "ett-nytt-långt-lösenord"


def _new_user(client, admin, role="guide", department=None) -> dict:
    address = f"ny.{uuid.uuid4().hex[:10]}@lund.example"
    response = client.post("/api/v1/users", headers=bearer(admin), json={
        "email": address, "name": "Ny Användare", "role": role, "department": department})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("path,method", [
    ("/api/v1/users", "get"), ("/api/v1/users", "post"), ("/api/v1/users/1", "patch"),
    ("/api/v1/users/1/password-reset", "post"), ("/api/v1/tokens", "get"),
    ("/api/v1/tokens", "post"), ("/api/v1/tokens/1", "delete")])
@pytest.mark.parametrize("role", ["guide", "supervisor", "department"])
def test_only_admins_manage_users_and_tokens(client, tokens, path, method, role):
    response = getattr(client, method)(path, headers=bearer(tokens[role]), json={})
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_create_list_and_change_a_user(client, tokens, session):
    user = _new_user(client, tokens["admin"])
    assert user["role"] == "guide" and user["active"] and user["department"] is None
    listed = client.get("/api/v1/users", headers=bearer(tokens["admin"])).get_json()["items"]
    assert user["id"] in [u["id"] for u in listed]
    response = client.patch(f"/api/v1/users/{user['id']}", headers=bearer(tokens["admin"]),
                            json={"role": "department", "department": "stadsbyggnad"})
    assert response.status_code == 200
    assert response.get_json()["department"] == "stadsbyggnad"
    actions = [e.action for e in entries(session, entity_type="user", entity_id=user["id"])]
    assert actions == ["user.created", "user.changed"]
    changed = entries(session, entity_type="user", entity_id=user["id"])[-1]
    assert changed.data["new"] == {"role": "department", "department": "stadsbyggnad"}
    assert changed.actor.startswith("token:")


def test_invalid_user_data_is_problem_json(client, tokens):
    user = _new_user(client, tokens["admin"])
    again = client.post("/api/v1/users", headers=bearer(tokens["admin"]), json={
        "email": user["email"], "name": "X", "role": "guide"})
    assert again.status_code == 422 and again.content_type == "application/problem+json"
    no_department = client.patch(f"/api/v1/users/{user['id']}",
                                 headers=bearer(tokens["admin"]), json={"role": "department"})
    assert no_department.status_code == 422
    assert "department" in no_department.get_json()["detail"]
    assert client.patch("/api/v1/users/999999", headers=bearer(tokens["admin"]),
                        json={"active": False}).status_code == 404
    nothing = client.patch(f"/api/v1/users/{user['id']}", headers=bearer(tokens["admin"]),
                           json={})
    assert nothing.status_code == 422 and nothing.content_type == "application/problem+json"


def test_a_deactivated_users_token_stops_working(client, tokens, session):
    from citizencenter.accounts import service as accounts

    user = _new_user(client, tokens["admin"])
    _, secret = accounts.create_token(session, "own", user_email=user["email"])
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    response = client.patch(f"/api/v1/users/{user['id']}", headers=bearer(tokens["admin"]),
                            json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("change", [
    {"active": False}, {"role": "department", "department": "stadsbyggnad"}, {"role": "admin"}])
def test_a_user_who_can_no_longer_take_work_is_signed_off(client, tokens, session, change):
    user = _new_user(client, tokens["admin"])
    available = client.put(f"/api/v1/routing/guides/{user['id']}/presence",
                           headers=bearer(tokens["admin"]), json={"presence": "available"})
    assert available.status_code == 200, available.get_json()
    response = client.patch(f"/api/v1/users/{user['id']}", headers=bearer(tokens["admin"]),
                            json=change)
    assert response.status_code == 200, response.get_json()
    profile = session.get(GuideProfile, user["id"])
    session.refresh(profile)
    assert (profile.presence, profile.presence_source) == (Presence.OFFLINE, "account")
    signed_off = [e for e in entries(session, entity_type="user", entity_id=user["id"])
                  if e.action == "guide.presence_changed"][-1]
    assert signed_off.data == {"from": "available", "to": "offline"}  # staffing's history
    assert signed_off.actor.startswith("token:")


def test_a_supervisor_who_stays_routable_keeps_their_presence(client, tokens, session):
    user = _new_user(client, tokens["admin"])
    client.put(f"/api/v1/routing/guides/{user['id']}/presence",
               headers=bearer(tokens["admin"]), json={"presence": "available"})
    assert client.patch(f"/api/v1/users/{user['id']}", headers=bearer(tokens["admin"]),
                        json={"role": "supervisor"}).status_code == 200
    profile = session.get(GuideProfile, user["id"])
    session.refresh(profile)
    assert profile.presence == Presence.AVAILABLE


def test_the_last_active_admin_stays_an_admin(client, tokens, session):
    last = _new_user(client, tokens["admin"], role="admin")
    for other in session.scalars(select(User).where(User.role == Role.ADMIN, User.active,
                                                    User.id != last["id"])).all():
        assert client.patch(f"/api/v1/users/{other.id}", headers=bearer(tokens["admin"]),
                            json={"role": "supervisor"}).status_code == 200
    for change in ({"role": "guide"}, {"active": False}):
        refused = client.patch(f"/api/v1/users/{last['id']}", headers=bearer(tokens["admin"]),
                               json=change)
        assert refused.status_code == 422 and "last active admin" in refused.get_json()["detail"]
    assert session.get(User, last["id"]).role == Role.ADMIN
    successor = _new_user(client, tokens["admin"], role="admin")
    assert client.patch(f"/api/v1/users/{last['id']}", headers=bearer(tokens["admin"]),
                        json={"role": "guide"}).status_code == 200
    assert successor["role"] == "admin"


def test_a_reset_link_is_mailed_works_once_and_never_lands_in_the_trail(
        app, client, tokens, session):
    user = _new_user(client, tokens["admin"])
    response = client.post(f"/api/v1/users/{user['id']}/password-reset",
                           headers=bearer(tokens["admin"]))
    assert response.status_code == 202
    reset = session.scalar(select(PasswordReset).where(PasswordReset.user_id == user["id"]))
    queued = session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == "accounts.password_reset").order_by(OutboxMessage.id.desc()))
    assert queued.payload == {"reset_id": reset.id}  # an id, never the token
    config = {**app.config, "PUBLIC_BASE_URL": "https://kc.lund.example"}
    with running_smtp(lambda env: email.message_from_bytes(
            env.content, policy=email.policy.default)) as sink:
        config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, SMTP_TIMEOUT_S=10)
        assert resets.send_reset_mail(session, reset.id, config)
    [mail] = sink.messages
    assert mail["To"] == user["email"]
    link = re.search(r"https://kc\.lund\.example/reset-password/(\S+)",
                     mail.get_content()).group(1)
    assert reset.token_hash not in link and len(link) > 40
    assert resets.check_link(session, link).id == user["id"]
    with pytest.raises(Exception) as short:
        resets.use_link(session, link, "kort")
    assert getattr(short.value, "status", None) == 422
    resets.use_link(session, link, NEW_PASSWORD)
    assert passwords.check_credentials(session, user["email"], NEW_PASSWORD).id == user["id"]
    with pytest.raises(resets.ResetLinkInvalid):
        resets.use_link(session, link, NEW_PASSWORD + "!")
    assert not resets.send_reset_mail(session, reset.id, config)  # used: not mailed again
    trail = entries(session, entity_type="user", entity_id=user["id"])
    assert [e.action for e in trail] == ["user.created", "user.password_reset_sent",
                                         "user.password_set"]
    assert all(link not in str(e.data) for e in trail)
    assert mask_personal_data(f"GET /reset-password/{link} HTTP/1.1") == \
        "GET /reset-password/[token] HTTP/1.1"


def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, client, tokens, session):
    user = _new_user(client, tokens["admin"])
    admin = resets.Principal(actor="user:0", scopes=frozenset({"*"}))
    then = utcnow() - timedelta(hours=1)
    first = resets.request_reset(session, admin, user["id"], app.config, now=then)
    token = resets._token(resets.keys.for_purpose(app.config, "password-reset"), first)
    assert resets.check_link(session, token, now=then + timedelta(minutes=5))
    with pytest.raises(resets.ResetLinkInvalid):
        resets.check_link(session, token, now=then + resets.RESET_TTL)
    resets.request_reset(session, admin, user["id"], app.config)
    with pytest.raises(resets.ResetLinkInvalid):  # replaced by the newer link
        resets.check_link(session, token, now=then + timedelta(minutes=5))
    with pytest.raises(resets.ResetLinkInvalid):
        resets.check_link(session, "1.not-a-token")


def test_tokens_issue_list_use_and_revoke(client, tokens, session):
    admin = bearer(tokens["admin"])
    response = client.post("/api/v1/tokens", headers=admin,
                           json={"name": "läsare", "scopes": ["cases:read"]})
    assert response.status_code == 201
    issued = response.get_json()
    secret = issued["secret"]
    assert secret.startswith("cc_") and issued["scopes"] == ["cases:read"]
    listed = client.get("/api/v1/tokens", headers=admin).get_json()["items"]
    mine = next(t for t in listed if t["id"] == issued["id"])
    assert "secret" not in mine and mine["prefix"] == secret[:10]
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401
    actions = [e.action for e in entries(session, entity_type="token", entity_id=issued["id"])]
    assert actions == ["token.created", "token.revoked"]
    bad = client.post("/api/v1/tokens", headers=admin, json={"name": "x", "scopes": ["*"]})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert client.delete("/api/v1/tokens/999999", headers=admin).status_code == 404


def test_a_user_is_stored_lower_case_and_not_signed_in_without_password(client, tokens,
                                                                         session):
    user = _new_user(client, tokens["admin"])
    row = session.get(User, user["id"])
    assert row.password_hash is None and not passwords.can_sign_in(row)
