"""The phone service reads signed deliveries itself: bad JSON, bad UTF-8 and bad Twilio
signatures are refused there, and the API answers them with the same problem+json."""

import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from citizencenter.accounts import service as accounts
from citizencenter.channels.phone import service, twilio
from citizencenter.channels.phone.models import CallEvent
from citizencenter.errors import PROBLEM_BASE, PROBLEM_JSON, NotFound, UnsupportedMediaType
from citizencenter.integrations.signatures import SignatureInvalid, SignatureMissing
from tests.channels.phone.helpers import CALLS_URL, signed_headers

AUTH_TOKEN = "twilio-intake-auth-token"
TWILIO_PATH = f"{CALLS_URL}/twilio?queue=kontaktcenter"
TWILIO_URL = "http://localhost" + TWILIO_PATH
RINGING = [("CallSid", "CA77"), ("CallStatus", "ringing"), ("From", "+46701234567")]


def _stored(session) -> int:
    return session.scalar(select(func.count()).select_from(CallEvent))


def _problem(error: type, detail: str) -> dict:
    return {"type": PROBLEM_BASE + error.slug, "title": error.title, "status": error.status,
            "detail": detail}


def _delivery(integration, body: bytes, mimetype: str) -> service.SignedDelivery:
    token, secret = integration
    headers = signed_headers(token, secret, body, mimetype)
    return service.SignedDelivery(mimetype, body, headers["webhook-id"],
                                  headers["webhook-timestamp"], headers["webhook-signature"])


def _principal(session, integration):
    return accounts.authenticate(session, integration[0])


@pytest.mark.parametrize("body", [b'{"event_id": ', b"\xff\xfe{}", b""])
def test_bad_json_is_refused_by_the_service(app, session, phone_integration, body):
    with pytest.raises(service.InvalidBody, match="not valid JSON"):
        service.receive_events(session, _principal(session, phone_integration),
                               app.config["SECRET_KEY"],
                               _delivery(phone_integration, body, "application/json"))
    assert _stored(session) == 0


def test_bad_json_answers_the_same_problem(client, session, phone_integration):
    token, secret = phone_integration
    broken = b'{"event_id": '
    response = client.post(f"{CALLS_URL}/events", data=broken, headers=signed_headers(
        token, secret, broken, "application/json"))
    assert response.status_code == 400 and response.content_type == PROBLEM_JSON
    assert response.get_json() == _problem(service.InvalidBody, "The body is not valid JSON.")
    assert _stored(session) == 0


def test_the_signature_is_checked_before_the_body_is_read(app, session, phone_integration):
    delivery = _delivery(phone_integration, b"not json", "application/json")
    forged = service.SignedDelivery(delivery.mimetype, delivery.body, delivery.webhook_id,
                                    delivery.timestamp, "v1," + "A" * 44)
    with pytest.raises(SignatureInvalid):
        service.receive_events(session, _principal(session, phone_integration),
                               app.config["SECRET_KEY"], forged)
    wrong_type = _delivery(phone_integration, json.dumps({}).encode(), "text/plain")
    with pytest.raises(UnsupportedMediaType):
        service.receive_events(session, _principal(session, phone_integration),
                               app.config["SECRET_KEY"], wrong_type)


def test_queue_log_that_is_not_utf8(app, client, session, phone_integration):
    token, secret = phone_integration
    body = b"1764248400|1.1|kontaktcenter|NONE|ENTERQUEUE||\xff|1\n"
    with pytest.raises(service.InvalidBody, match="not UTF-8"):
        service.receive_queue_log(session, _principal(session, phone_integration),
                                  app.config["SECRET_KEY"],
                                  _delivery(phone_integration, body, "text/plain"))
    response = client.post(f"{CALLS_URL}/asterisk", data=body,
                           headers=signed_headers(token, secret, body, "text/plain"))
    assert response.status_code == 400 and response.content_type == PROBLEM_JSON
    assert response.get_json() == _problem(service.InvalidBody, "The body is not UTF-8 text.")
    assert _stored(session) == 0


def test_bad_twilio_signature_is_refused_by_the_service(session):
    signature = twilio.expected_signature(AUTH_TOKEN, TWILIO_URL, RINGING)
    for missing in (None, ""):
        with pytest.raises(SignatureMissing, match="X-Twilio-Signature is required"):
            service.receive_twilio(session, AUTH_TOKEN, TWILIO_URL,
                                   "application/x-www-form-urlencoded", RINGING, missing,
                                   "kontaktcenter")
    forged = twilio.expected_signature("another token", TWILIO_URL, RINGING)
    with pytest.raises(SignatureInvalid, match="X-Twilio-Signature does not match"):
        service.receive_twilio(session, AUTH_TOKEN, TWILIO_URL,
                               "application/x-www-form-urlencoded", RINGING, forged,
                               "kontaktcenter")
    with pytest.raises(SignatureInvalid):  # the signature covers the URL too
        service.receive_twilio(session, AUTH_TOKEN, TWILIO_URL + "x",
                               "application/x-www-form-urlencoded", RINGING, signature,
                               "kontaktcenter")
    assert _stored(session) == 0
    result = service.receive_twilio(session, AUTH_TOKEN, TWILIO_URL,
                                    "application/x-www-form-urlencoded", RINGING, signature,
                                    "kontaktcenter")
    assert (result.accepted, result.duplicates) == (1, 0)


def test_bad_twilio_signature_answers_the_same_problem(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    forged = twilio.expected_signature(AUTH_TOKEN, TWILIO_URL, [*RINGING, ("To", "x")])
    response = client.post(TWILIO_PATH, data=urlencode(RINGING),
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403 and response.content_type == PROBLEM_JSON
    assert response.get_json() == _problem(SignatureInvalid, "X-Twilio-Signature does not match.")
    assert _stored(session) == 0


def test_a_repeated_twilio_parameter_is_signed_whole_and_read_first(app, client, session,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    form = [*RINGING, ("CallStatus", "teleported")]
    response = client.post(TWILIO_PATH, data=urlencode(form),
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": twilio.expected_signature(
                               AUTH_TOKEN, TWILIO_URL, form)})
    assert response.status_code == 202
    assert session.scalar(select(CallEvent.event_id)) == "CA77:0:ringing"


def test_twilio_not_configured_or_wrong_media_type(session):
    with pytest.raises(NotFound):
        service.receive_twilio(session, "", TWILIO_URL, "application/x-www-form-urlencoded",
                               RINGING, "x", None)
    with pytest.raises(UnsupportedMediaType):
        service.receive_twilio(session, AUTH_TOKEN, TWILIO_URL, "application/json", RINGING,
                               "x", None)
