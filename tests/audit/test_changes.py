"""Changes to tokens, integrations and settings are audited with old and new values,
never with secrets or personal data."""

from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import Department
from citizencenter.integrations import service as integrations
from citizencenter.routing import notifications
from tests.audit.helpers import GUIDE, SUPERVISOR, actor_of, entries
from tests.factories import bearer
from tests.sla.helpers import calendar_body, policy_body


def _only(session, **where):
    [entry] = entries(session, **where)
    return entry


def test_tokens_created_and_revoked_never_show_the_secret(session):
    token, secret = accounts.create_token(session, "växelns token", scopes=["calls:write"],
                                          actor="cli")
    created = _only(session, action="token.created", entity_id=token.id)
    assert (created.actor, created.entity_type) == ("cli", "token")
    assert created.data == {"new": {"name": "växelns token", "role": None,
                                    "scopes": ["calls:write"], "user_id": None}}
    accounts.revoke_tokens_named(session, "växelns token", actor="cli")
    revoked = _only(session, action="token.revoked", entity_id=token.id)
    assert revoked.data == {"old": {"name": "växelns token"}}
    for entry in (created, revoked):
        assert secret not in str(entry.data) and token.token_hash not in str(entry.data)


def test_users_created_without_name_or_e_mail(session):
    user = accounts.create_user(session, "Ny.Guide@lund.example", "Ny Guide", "guide",
                                actor="cli")
    entry = _only(session, action="user.created", entity_id=user.id)
    assert entry.data == {"new": {"role": "guide", "department": None}}
    assert "guide@lund" not in str(entry.data).lower() and "Ny Guide" not in str(entry.data)


def test_integrations_created_and_rotated_by_fingerprint(app, session):
    integration, bearer_token, secret = integrations.create_integration(
        session, "asterisk-lund", ["calls:write"], app.config["SECRET_KEY"], actor="cli")
    created = _only(session, action="integration.created", entity_id=integration.id)
    assert created.actor == "cli"
    assert created.data["new"]["name"] == "asterisk-lund"
    assert created.data["new"]["token_id"] == integration.token_id
    assert created.data["new"]["secret"].startswith("sha256:")
    assert _only(session, action="token.created", entity_id=integration.token_id).actor == "cli"

    new = integrations.rotate_secret(session, "asterisk-lund", app.config["SECRET_KEY"],
                                     actor="cli")
    rotated = _only(session, action="integration.secret_rotated", entity_id=integration.id)
    first = created.data["new"]["secret"]
    assert rotated.data["old"] == {"secrets": [first]}
    assert rotated.data["new"]["secrets"][1] == first
    assert rotated.data["new"]["secrets"][0] not in (first, None)
    for entry in (created, rotated):
        for value in (secret, new, bearer_token):
            assert value not in str(entry.data)


def test_department_webhooks_keep_the_address_not_its_credentials(app, session):
    secret = notifications.set_webhook(
        session, "miljo", "https://hooks.lund.example/in?token=hemligt",
        app.config["SECRET_KEY"], actor="cli")
    department_id = session.scalar(select(Department.id).where(Department.slug == "miljo"))
    [entry] = entries(session, action="department.webhook_set", entity_id=department_id)
    assert entry.data["old"] == {"url": None, "secret": None}
    assert entry.data["new"]["url"] == "https://hooks.lund.example/in"
    assert entry.data["new"]["secret"].startswith("sha256:")
    assert "hemligt" not in str(entry.data) and secret not in str(entry.data)


def test_sla_policy_created_and_changed_with_old_and_new_values(client, tokens, session):
    headers = bearer(tokens["supervisor"])
    url = "/api/v1/sla/policies"
    assert client.post(url, json=policy_body("granskad", target_value=2),
                       headers=headers).status_code == 201
    created = _only(session, action="sla_policy.created", entity_id="granskad")
    assert created.actor == actor_of(session, SUPERVISOR)
    assert created.data["new"]["target_value"] == 2
    assert created.data["new"]["channel"] == "social"
    assert client.patch(f"{url}/granskad", json={"target_value": 3, "calendar": "kontorstid"},
                        headers=headers).status_code == 200
    changed = _only(session, action="sla_policy.changed", entity_id="granskad")
    assert changed.data == {"old": {"calendar": None, "target_value": 2},
                            "new": {"calendar": "kontorstid", "target_value": 3}}
    # The same values again change nothing and add nothing.
    assert client.patch(f"{url}/granskad", json={"target_value": 3},
                        headers=headers).status_code == 200
    assert len(entries(session, action="sla_policy.changed", entity_id="granskad")) == 1


def test_calendar_created_and_changed(client, tokens, session):
    headers = bearer(tokens["supervisor"])
    url = "/api/v1/sla/calendars"
    assert client.post(url, json=calendar_body("granskning"), headers=headers) \
        .status_code == 201
    created = _only(session, action="sla_calendar.created", entity_id="granskning")
    assert created.data["new"]["version"] == 1
    assert created.data["new"]["weekly_hours"]["friday"] == ["08:00-15:00"]
    body = calendar_body("granskning", closed_dates=["2026-12-23", "2026-12-28"])
    body.pop("slug")
    assert client.put(f"{url}/granskning", json=body, headers=headers).status_code == 200
    changed = _only(session, action="sla_calendar.changed", entity_id="granskning")
    assert changed.data == {
        "old": {"closed_dates": ["2026-12-23"], "version": 1},
        "new": {"closed_dates": ["2026-12-23", "2026-12-28"], "version": 2}}


def test_queue_policy_changes(client, tokens, session):
    url = "/api/v1/routing/queues/besok"
    auth = bearer(tokens["admin"])
    assert client.put(url, json={"timeout_s": 300, "overflow_queue": "kontaktcenter"},
                      headers=auth).status_code == 200
    assert client.put(url, json={"timeout_s": 600, "overflow_queue": "kontaktcenter"},
                      headers=auth).status_code == 200
    first, second = entries(session, action="queue_policy.changed", entity_id="besok")
    assert first.data["new"] == {"timeout_s": 300, "overflow_queue": "kontaktcenter"}
    assert second.data == {"old": {"timeout_s": 300}, "new": {"timeout_s": 600}}


def test_routing_rule_created_edited_and_retired(client, tokens, session):
    auth = bearer(tokens["supervisor"])
    body = {"name": "Bygglov", "position": 10, "conditions": {"keywords": ["bygglov"]},
            "actions": {"queue": "bygglov"}}
    rule_id = client.post("/api/v1/routing/rules", json=body, headers=auth).get_json()["id"]
    created = _only(session, action="routing_rule.created", entity_id=rule_id)
    assert created.data["new"]["conditions"] == {"keywords": ["bygglov"]}
    edited = {**body, "conditions": {"keywords": ["bygglov", "plank"]}}
    assert client.put(f"/api/v1/routing/rules/{rule_id}", json=edited, headers=auth) \
        .status_code == 200
    changed = _only(session, action="routing_rule.changed", entity_id=rule_id)
    assert changed.data == {
        "old": {"conditions": {"keywords": ["bygglov"]}, "version": 1},
        "new": {"conditions": {"keywords": ["bygglov", "plank"]}, "version": 2}}
    assert client.delete(f"/api/v1/routing/rules/{rule_id}", headers=auth).status_code == 204
    retired = _only(session, action="routing_rule.retired", entity_id=rule_id)
    assert retired.actor == actor_of(session, SUPERVISOR)
    assert retired.data["old"]["version"] == 2


def test_guide_profile_changes(client, tokens, session):
    guide = actor_of(session, GUIDE)
    user_id = guide.removeprefix("user:")
    response = client.patch(f"/api/v1/routing/guides/{user_id}",
                            json={"capacities": {"email": 9}, "queues": ["epost"]},
                            headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200, response.get_json()
    [entry] = entries(session, action="guide.profile_changed", entity_id=user_id)
    assert entry.actor == actor_of(session, SUPERVISOR)
    assert entry.data["new"]["capacities"]["email"] == 9
    assert entry.data["old"]["capacities"]["email"] != 9
    assert "queue_ids" in entry.data["new"]
