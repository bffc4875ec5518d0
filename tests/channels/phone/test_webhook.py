"""The signed call-event webhook: exactly-once storage and every kind of bad delivery."""

import json
import time

import pytest
from sqlalchemy import func, select

from citizencenter.channels.phone.models import CallEvent
from citizencenter.integrations import service as integrations
from citizencenter.outbox import OutboxMessage
from tests.channels.phone.helpers import CALLS_URL, post_events, signed_headers
from tests.factories import bearer


def event(n: int = 1, **overrides) -> dict:
    data = {"event_id": f"ev-{n}", "source": "pbx", "type": "call.queued",
            "occurred_at": "2026-11-18T09:00:00+01:00", "sequence": n, "call_id": f"c-{n}",
            "queue": "kontaktcenter", "caller": "046-35 50 00", "metrics": {},
            "raw": {"vendor": "x"}}
    data.update(overrides)
    return data


def _stored(session) -> int:
    return session.scalar(select(func.count()).select_from(CallEvent))


def test_single_event_is_stored_and_queued(client, session, phone_integration):
    response = post_events(client, phone_integration, event())
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 1, "duplicates": 0, "rejected": [],
                                   "replayed": False}
    stored = session.scalar(select(CallEvent))
    assert stored.caller == "+4646355000" and stored.raw == {"vendor": "x"}
    assert stored.applied_at is None
    wakeups = session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.topic == "calls.events_received")).all()
    assert wakeups == [{"accepted": 1}]  # no ids: the worker takes whatever waits


def test_batch_and_repeated_event_ids(client, session, phone_integration):
    batch = [event(n) for n in range(1, 301)]
    assert post_events(client, phone_integration, batch).get_json()["accepted"] == 300
    again = post_events(client, phone_integration, batch[:10] + [event(301)])
    assert again.status_code == 202
    assert again.get_json()["accepted"] == 1 and again.get_json()["duplicates"] == 10
    only_old = post_events(client, phone_integration, batch[:5])
    assert only_old.status_code == 200 and only_old.get_json()["accepted"] == 0
    assert _stored(session) == 301


def test_withheld_numbers_are_kept_as_unknown(client, session, phone_integration):
    post_events(client, phone_integration, [event(1, caller="anonymous"),
                                            event(2, caller=None)])
    assert session.scalars(select(CallEvent.caller)).all() == [None, None]


@pytest.mark.parametrize(("payload", "field"), [
    (event(occurred_at="2026-11-18T09:00:00"), "0.occurred_at"),
    (event(type="call.teleported"), "0.type"),
    (event(sequence="first"), "0.sequence"),
    (event(colour="red"), "0.colour"),
    (event(metrics={"wait_s": -1}), "0.metrics.wait_s"),
    (event(metrics={"mood": "happy"}), "0.metrics.mood"),
    (event(caller="not a number"), "0.caller"),
    ({k: v for k, v in event().items() if k != "call_id"}, "0.call_id"),
    ([event(n) for n in range(501)], "_schema"),
    ([], "_schema"),
    (["ev-1"], "_schema"),
])
def test_invalid_events_are_422_and_store_nothing(client, session, phone_integration,
                                                  payload, field):
    response = post_events(client, phone_integration, payload)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert _stored(session) == 0


def test_one_bad_event_rejects_the_whole_batch(client, session, phone_integration):
    response = post_events(client, phone_integration, [event(1), event(2, type="nope")])
    assert response.status_code == 422
    assert _stored(session) == 0


def test_signature_problems(client, session, phone_integration):
    token, secret = phone_integration
    body = json.dumps(event()).encode()
    url = f"{CALLS_URL}/events"

    def post(headers):
        return client.post(url, data=body, headers=headers)

    good = signed_headers(token, secret, body, "application/json")
    # Unsigned is 401 signature-missing; signed wrongly or out of time, 403 signature-invalid.
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = {k: v for k, v in good.items() if k != name}
        missing = post(headers)
        assert missing.status_code == 401
        assert missing.get_json()["type"].endswith("/signature-missing")
    forged = {**good, "webhook-signature": "v1," + "A" * 44}
    assert post(forged).status_code == 403
    other_secret = integrations.signatures.new_secret()
    assert post(signed_headers(token, other_secret, body, "application/json")).status_code == 403
    stale = signed_headers(token, secret, body, "application/json",
                           timestamp=int(time.time()) - 360)
    assert post(stale).status_code == 403
    future = signed_headers(token, secret, body, "application/json",
                            timestamp=int(time.time()) + 360)
    assert post(future).status_code == 403
    tampered = client.post(url, data=body.replace(b"ev-1", b"ev-2"), headers=good)
    assert tampered.status_code == 403
    assert tampered.content_type == "application/problem+json"
    assert tampered.get_json()["type"].endswith("/signature-invalid")
    assert _stored(session) == 0
    assert post(good).status_code == 202


def test_replayed_webhook_id_changes_nothing(client, session, phone_integration):
    first = post_events(client, phone_integration, event(1), webhook_id="msg_1")
    assert first.status_code == 202
    replay = post_events(client, phone_integration, [event(1), event(2)], webhook_id="msg_1")
    assert replay.status_code == 200
    assert replay.get_json()["replayed"] is True and replay.get_json()["accepted"] == 0
    assert _stored(session) == 1


def test_secret_rotation_keeps_two_secrets_valid(app, client, session, phone_integration):
    token, old = phone_integration
    new = integrations.rotate_secret(session, "växeln", app.config["SECRET_KEY"])
    assert post_events(client, (token, old), event(1)).status_code == 202
    assert post_events(client, (token, new), event(2)).status_code == 202
    newest = integrations.rotate_secret(session, "växeln", app.config["SECRET_KEY"])
    assert post_events(client, (token, old), event(3)).status_code == 403
    assert post_events(client, (token, new), event(4)).status_code == 202
    assert post_events(client, (token, newest), event(5)).status_code == 202


def test_auth_and_transport_errors(client, session, phone_integration, tokens):
    token, secret = phone_integration
    body = json.dumps(event()).encode()
    url = f"{CALLS_URL}/events"
    assert client.post(url, data=body, content_type="application/json").status_code == 401
    # A guide's token has no calls:write; an admin token is no integration.
    guide = signed_headers(tokens["guide"], secret, body, "application/json")
    assert client.post(url, data=body, headers=guide).status_code == 403
    admin = signed_headers(tokens["admin"], secret, body, "application/json")
    assert client.post(url, data=body, headers=admin).status_code == 403
    text = signed_headers(token, secret, body, "text/plain")
    assert client.post(url, data=body, headers=text).status_code == 415
    broken = b'{"event_id": '
    response = client.post(url, data=broken, headers=signed_headers(
        token, secret, broken, "application/json"))
    assert response.status_code == 400
    huge = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    response = client.post(url, data=huge, headers=signed_headers(
        token, secret, huge, "application/json"))
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert _stored(session) == 0
    assert client.get(url, headers=bearer(token)).status_code == 405


def test_timestamp_tolerance_is_five_minutes_either_way():
    """The edge exactly, with the clock fixed (the endpoint test keeps a margin for slow runs)."""
    secret = integrations.signatures.new_secret()
    body, sent_at = b"{}", 1_800_000_000
    header = integrations.signatures.sign(secret, "msg_1", sent_at, body)
    for now in (sent_at - 300, sent_at + 300):
        integrations.signatures.verify([secret], "msg_1", str(sent_at), header, body, now=now)
    for now in (sent_at - 301, sent_at + 301):
        with pytest.raises(integrations.signatures.SignatureInvalid):
            integrations.signatures.verify([secret], "msg_1", str(sent_at), header, body,
                                           now=now)
