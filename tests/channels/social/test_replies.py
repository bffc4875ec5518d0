"""A guide's reply on a social case: queued with the message, sent once, byte for byte."""

import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from citizencenter.cases.models import Case
from citizencenter.channels.social import replies
from citizencenter.channels.social.models import (
    DeliveryStatus,
    SocialConversation,
    SocialDelivery,
)
from citizencenter.channels.social.sender import (
    MetaSender,
    TransportResponse,
    TransportUncertain,
    TransportUnreachable,
    UrllibTransport,
)
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from tests.channels.social.conftest import APP_SECRET, PAGE_TOKEN, delivery, post_signed, text_event
from tests.factories import bearer, create_case

PSID = "7052512838139489"
REPLY = "Hej! Återvinningscentralen har öppet lördagar 9–15. Välkommen!"
PROOF = hmac.new(APP_SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()


def _reply(client, tokens, case_id, body=REPLY, direction="outbound"):
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(tokens["guide"]),
                           json={"direction": direction, "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def social_case(client, session, meta_app):
    post_signed(client, delivery(text_event(PSID, "När har ni öppet?")))
    conversation = session.scalar(select(SocialConversation)
                                  .where(SocialConversation.citizen_id == PSID))
    return session.get(Case, conversation.case_id)


def test_a_reply_is_queued_with_the_message(client, session, tokens, social_case):
    message_id = _reply(client, tokens, social_case.id)
    topics = [(r.topic, r.payload) for r in session.scalars(select(OutboxMessage))]
    assert ("social.reply_added", {"message_id": message_id}) in topics
    _reply(client, tokens, social_case.id, "Intern anteckning", direction="internal")
    assert len([t for t in session.scalars(select(OutboxMessage.topic))
                if t == "social.reply_added"]) == 1


def test_replies_on_other_channels_are_not_sent_to_meta(client, session, tokens):
    case = create_case(client, tokens["guide"], channel="email")
    _reply(client, tokens, case["id"])
    assert "social.reply_added" not in session.scalars(select(OutboxMessage.topic)).all()


def test_the_exact_request_meta_receives(client, session, tokens, social_case, sender_with):
    message_id = _reply(client, tokens, social_case.id)
    sender, transport = sender_with()
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.SENT
    [request] = transport.requests
    assert request.method == "POST"
    assert request.url == ("https://graph.facebook.com/v19.0/me/messages?access_token="
                           f"{PAGE_TOKEN}&appsecret_proof={PROOF}")
    assert request.headers == {"Content-Type": "application/json"}
    assert request.body == (
        '{"recipient":{"id":"7052512838139489"},"messaging_type":"RESPONSE",'
        '"message":{"text":"Hej! Återvinningscentralen har öppet lördagar 9–15. Välkommen!"}}'
    ).encode()
    delivered = session.scalar(select(SocialDelivery).where(SocialDelivery.message_id
                                                            == message_id))
    assert delivered.status == DeliveryStatus.SENT and delivered.meta_message_ids == ["m_sent1"]
    assert PAGE_TOKEN not in repr(request)


def test_a_reply_is_never_sent_twice(client, session, tokens, social_case, sender_with):
    message_id = _reply(client, tokens, social_case.id)
    sender, transport = sender_with()
    replies.send_reply(session, message_id, sender)
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.SENT
    assert len(transport.requests) == 1


def test_long_replies_go_in_parts_and_a_retry_sends_only_the_rest(
        client, session, tokens, social_case, sender_with):
    text = ("Första stycket. " * 100).strip() + "\n\n" + ("Andra stycket. " * 100).strip()
    message_id = _reply(client, tokens, social_case.id, text)
    sender, transport = sender_with(None, TransportResponse(503, b'{"error":{"code":2}}'))
    with pytest.raises(replies.SendFailed):
        replies.send_reply(session, message_id, sender)
    row = session.scalar(select(SocialDelivery))
    assert row.status == DeliveryStatus.PENDING and row.parts_sent == 1
    assert "503" in row.last_error
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.SENT
    bodies = [json.loads(r.body)["message"]["text"] for r in transport.requests]
    assert bodies[1] == bodies[2]  # the refused part again, the first never twice
    assert bodies[0] + "\n\n" + bodies[2] == text
    assert row.parts_sent == 2 and len(row.meta_message_ids) == 2


def test_unreachable_meta_is_retried(client, session, tokens, social_case, sender_with):
    message_id = _reply(client, tokens, social_case.id)
    sender, transport = sender_with(TransportUnreachable("ConnectionRefusedError"))
    with pytest.raises(replies.SendFailed):
        replies.send_reply(session, message_id, sender)
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.SENT
    assert len(transport.requests) == 2


def test_a_refusal_by_meta_is_final(client, session, tokens, social_case, sender_with):
    message_id = _reply(client, tokens, social_case.id)
    outside_window = json.dumps({"error": {"message": "(#10) outside of allowed window",
                                           "type": "OAuthException", "code": 10,
                                           "error_subcode": 2018278}}).encode()
    sender, transport = sender_with(TransportResponse(400, outside_window))
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.FAILED
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.FAILED
    assert len(transport.requests) == 1
    assert "code 10, subcode 2018278" in session.scalar(select(SocialDelivery.last_error))


def test_no_answer_is_never_repeated(client, session, tokens, social_case, sender_with):
    message_id = _reply(client, tokens, social_case.id)
    sender, transport = sender_with(TransportUncertain("TimeoutError"))
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.UNCERTAIN
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.UNCERTAIN
    assert len(transport.requests) == 1


def test_a_post_in_flight_waits_and_a_dead_one_is_not_repeated(
        client, session, tokens, social_case, sender_with):
    message_id = _reply(client, tokens, social_case.id)
    session.add(SocialDelivery(message_id=message_id, status=DeliveryStatus.SENDING,
                               claimed_at=utcnow()))
    session.commit()
    sender, transport = sender_with()
    with pytest.raises(replies.DeliveryInFlight):
        replies.send_reply(session, message_id, sender)
    row = session.scalar(select(SocialDelivery))
    row.claimed_at = utcnow() - sender.in_flight_for - timedelta(seconds=1)
    session.commit()
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.UNCERTAIN
    assert transport.requests == []


def test_a_social_case_without_a_conversation_fails_cleanly(client, session, tokens,
                                                            meta_app, sender_with):
    case = create_case(client, tokens["guide"], channel="social")
    message_id = _reply(client, tokens, case["id"])
    sender, transport = sender_with()
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.FAILED
    assert transport.requests == []


def test_over_real_http_to_a_stand_in_graph_api(client, session, tokens, social_case,
                                                meta_app, graph_api):
    url, received = graph_api
    message_id = _reply(client, tokens, social_case.id)
    sender = MetaSender(PAGE_TOKEN, APP_SECRET, UrllibTransport(), graph_url=url, timeout_s=5)
    assert replies.send_reply(session, message_id, sender) == DeliveryStatus.SENT
    [(path, content_type, body)] = received
    target = urlsplit(path)
    assert target.path == "/v19.0/me/messages"
    assert parse_qs(target.query) == {"access_token": [PAGE_TOKEN], "appsecret_proof": [PROOF]}
    assert content_type == "application/json"
    assert json.loads(body) == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                                "message": {"text": REPLY}}
    assert session.scalar(select(SocialDelivery.meta_message_ids)) == ["m_local1"]


def test_a_closed_port_is_unreachable_not_uncertain(client, session, tokens, social_case):
    message_id = _reply(client, tokens, social_case.id)
    sender = MetaSender(PAGE_TOKEN, APP_SECRET, UrllibTransport(),
                        graph_url="http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(replies.SendFailed):
        replies.send_reply(session, message_id, sender)
    assert session.scalar(select(SocialDelivery.status)) == DeliveryStatus.PENDING
