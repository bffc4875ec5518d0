"""Twilio Voice callbacks, signed exactly as Twilio documents."""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from citizencenter.channels.phone import service, twilio
from citizencenter.channels.phone.models import Call, CallEvent, CallOutcome

AUTH_TOKEN = "twilio-test-auth-token"
URL = "http://localhost/api/v1/integrations/calls/twilio?queue=kontaktcenter"


def test_the_documented_example_signature():
    # Twilio's own example: auth token 12345 and these parameters give this signature.
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"),
              ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")]
    assert twilio.expected_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                                     params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def _signature(params: dict) -> str:
    data = URL + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(AUTH_TOKEN.encode(), data.encode(),
                                      hashlib.sha1).digest()).decode()


@pytest.fixture
def twilio_client(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    return client


def _post(client, params: dict, signature: str | None = None):
    headers = {"X-Twilio-Signature": signature if signature is not None else _signature(params)}
    return client.post(URL.removeprefix("http://localhost"), data=urlencode(params),
                       content_type="application/x-www-form-urlencoded", headers=headers)


CALL = {"CallSid": "CA5f0e1a", "AccountSid": "AC00", "From": "+46701234567",
        "To": "+46463550000", "Direction": "inbound", "ApiVersion": "2010-04-01"}


def test_a_queued_then_bridged_call(twilio_client, session):
    ringing = {**CALL, "CallStatus": "ringing", "SequenceNumber": "0",
               "Timestamp": "Wed, 18 Nov 2026 08:00:00 +0000"}
    assert _post(twilio_client, ringing).status_code == 202
    bridged = {**CALL, "QueueResult": "bridged", "QueueTime": "37", "QueueSid": "QU1"}
    assert _post(twilio_client, bridged).status_code == 202
    completed = {**CALL, "CallStatus": "completed", "CallDuration": "160",
                 "SequenceNumber": "3", "Timestamp": "Wed, 18 Nov 2026 08:03:17 +0000"}
    assert _post(twilio_client, completed).status_code == 202
    assert _post(twilio_client, completed).status_code == 200  # a repeated callback
    service.apply_events(session, session.scalars(select(CallEvent.id)).all())
    call = session.scalar(select(Call).where(Call.call_id == "CA5f0e1a"))
    assert call.outcome == CallOutcome.ANSWERED and call.wait_s == 37
    assert call.queue == "kontaktcenter" and call.caller == "+46701234567"
    stored = session.scalars(select(CallEvent.raw)).all()
    assert all("From" not in raw for raw in stored)  # the number lives in its own column


def test_signature_is_required_and_checked(twilio_client, session):
    params = {**CALL, "CallStatus": "ringing"}
    assert _post(twilio_client, params, signature="").status_code == 401
    assert _post(twilio_client, params, signature=_signature({**params, "To": "x"})) \
        .status_code == 403
    tampered = twilio_client.post(
        URL.removeprefix("http://localhost"), data=urlencode({**params, "From": "+4670000"}),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": _signature(params)})
    assert tampered.status_code == 403
    assert session.scalar(select(CallEvent)) is None


def test_bad_callbacks(twilio_client, app, client, monkeypatch):
    assert _post(twilio_client, {"CallStatus": "ringing"}).status_code == 422
    assert _post(twilio_client, {**CALL, "CallStatus": "teleported"}).status_code == 422
    assert _post(twilio_client, {**CALL, "CallStatus": "ringing", "Timestamp": "soon"}) \
        .status_code == 422
    json_body = twilio_client.post(URL.removeprefix("http://localhost"), json=CALL)
    assert json_body.status_code == 415
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
    assert _post(client, {**CALL, "CallStatus": "ringing"}).status_code == 404
