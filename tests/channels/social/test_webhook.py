"""The Meta webhook: handshake, signatures over the raw body, batches, repeats and echoes."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case, Message
from citizencenter.channels.social.models import SocialConversation, SocialMessage
from citizencenter.contacts.models import ContactIdentity
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from tests.channels.social.conftest import (
    APP_SECRET,
    IG_ACCOUNT_ID,
    VERIFY_TOKEN,
    WEBHOOK_URL,
    delivery,
    echo_event,
    post_signed,
    signature,
    text_event,
)

PSID = "7052512838139489"


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_handshake_answers_the_challenge_as_plain_text(client, meta_app):
    response = client.get(WEBHOOK_URL, query_string={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data() == b"1158201444"


@pytest.mark.parametrize("args", [
    {"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
     "hub.challenge": "<script>alert(1)</script>"},
    {},
])
def test_a_wrong_handshake_is_403_problem(client, meta_app, args):
    response = client.get(WEBHOOK_URL, query_string=args)
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert b"script" not in response.get_data()


def test_unconfigured_meta_is_404(client, app):
    assert client.get(WEBHOOK_URL, query_string={"hub.mode": "subscribe"}).status_code == 404
    assert client.post(WEBHOOK_URL, data=b"{}").status_code == 404


def test_a_message_opens_a_case_for_a_new_contact(client, session, meta_app):
    event = text_event(PSID, "Hej! När har återvinningscentralen öppet på lördag?")
    response = post_signed(client, delivery(event))
    assert response.status_code == 200
    assert response.get_json() == {"accepted": 1, "duplicates": 0, "echoes": 0, "ignored": 0}
    case = _conversation_case(session, PSID)
    assert case.channel == "social"
    assert case.subject == "Hej! När har återvinningscentralen öppet på lördag?"
    assert case.status == CaseStatus.NEW
    identity = session.scalar(select(ContactIdentity).where(ContactIdentity.value == PSID))
    assert identity.kind == "messenger_psid" and case.contact_id == identity.contact_id
    message = session.scalar(select(Message).where(Message.case_id == case.id))
    assert message.body == event["message"]["text"]
    assert message.channel_metadata["mid"] == event["message"]["mid"]
    stored = session.scalar(select(SocialMessage))
    assert stored.raw == event and stored.case_id == case.id and stored.message_id == message.id
    assert {"case_id": str(case.id)} in [r.payload for r in session.scalars(select(OutboxMessage))]


def test_the_signature_covers_the_exact_bytes(client, session, meta_app):
    # Same JSON, different bytes: the signature of one does not fit the other.
    event = text_event(PSID, "Hej")
    compact = json.dumps(delivery(event), separators=(",", ":")).encode()
    spaced = json.dumps(json.loads(compact), indent=2).encode()
    refused = client.post(WEBHOOK_URL, data=spaced, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature(compact)})
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    assert _count(session, SocialMessage) == 0
    accepted = post_signed(client, None, body=spaced)
    assert accepted.status_code == 200 and _count(session, SocialMessage) == 1


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"X-Hub-Signature-256": "sha1=" + "0" * 40}, 403),
    ({"X-Hub-Signature-256": "sha256=nothex"}, 403),
    ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 403),
])
def test_missing_or_wrong_signatures_are_refused(client, session, meta_app, headers, status):
    body = json.dumps(delivery(text_event(PSID, "Hej"))).encode()
    response = client.post(WEBHOOK_URL, data=body,
                           headers={"Content-Type": "application/json", **headers})
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert _count(session, SocialMessage) == 0


def test_a_body_signed_with_another_secret_is_refused(client, session, meta_app):
    response = post_signed(client, delivery(text_event(PSID, "Hej")), secret=APP_SECRET[::-1])
    assert response.status_code == 403
    assert _count(session, SocialMessage) == 0


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b"{not json", "application/json", 400),
    (b'{"object": "page", "entry": "x"}', "application/json", 400),
    (b'{"object": "whatsapp_business_account", "entry": []}', "application/json", 400),
    (json.dumps(delivery({"sender": {"id": PSID}, "recipient": {"id": "1"},
                          "timestamp": 1, "message": {"text": "no mid"}})).encode(),
     "application/json", 400),
    (b'{"object": "page", "entry": []}', "text/plain", 415),
    # Text no column can store, and nesting the parser cannot follow: 422, never a 500.
    (json.dumps(delivery(text_event(PSID, "Hej\x00då"))).encode(), "application/json", 422),
    (json.dumps(delivery(text_event(PSID, "Hej \ud800"))).encode(), "application/json", 422),
    (b'{"object": "page", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     "application/json", 422),
])
def test_signed_but_malformed_deliveries(client, session, meta_app, body, content_type, status):
    response = post_signed(client, None, body=body, content_type=content_type)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"]
    assert _count(session, SocialMessage) == 0


def test_a_repeated_delivery_stores_nothing_new(client, session, meta_app):
    payload = delivery(text_event(PSID, "Hej"), text_event(PSID, "Är ni där?"))
    assert post_signed(client, payload).get_json()["accepted"] == 2
    again = post_signed(client, payload)
    assert again.status_code == 200
    assert again.get_json() == {"accepted": 0, "duplicates": 2, "echoes": 0, "ignored": 0}
    assert _count(session, SocialMessage) == 2
    case = _conversation_case(session, PSID)
    assert session.scalar(select(func.count()).select_from(Message)
                          .where(Message.case_id == case.id)) == 2


def test_the_same_mid_twice_in_one_delivery_counts_once(client, session, meta_app):
    event = text_event(PSID, "Hej")
    response = post_signed(client, delivery(event, event))
    assert response.get_json()["accepted"] == 1 and response.get_json()["duplicates"] == 1


def test_echoes_and_receipts_are_ignored(client, session, meta_app):
    read = {"sender": {"id": PSID}, "recipient": {"id": "1"}, "timestamp": 1772442199000,
            "read": {"watermark": 1772442099500}}
    response = post_signed(client, delivery(echo_event(PSID, "Vi svarar snart"), read))
    assert response.get_json() == {"accepted": 0, "duplicates": 0, "echoes": 1, "ignored": 1}
    assert _count(session, SocialMessage) == 0
    assert _count(session, SocialConversation) == 0


def test_a_batch_spreads_over_conversations_and_platforms(client, session, meta_app):
    instagram = delivery(text_event("6543217890123456", "Parkeringstillstånd? 🚗",
                                    page=IG_ACCOUNT_ID), page=IG_ACCOUNT_ID, kind="instagram")
    messenger = delivery(text_event("111", "Fråga ett"), text_event("222", "Fråga två"),
                         text_event("111", "Tillägg till fråga ett"))
    messenger["entry"].append({"id": "999", "time": 1, "changes": [{"field": "feed"}]})
    assert post_signed(client, messenger).get_json() == {
        "accepted": 3, "duplicates": 0, "echoes": 0, "ignored": 1}
    assert post_signed(client, instagram).get_json()["accepted"] == 1
    conversations = {c.citizen_id: c for c in session.scalars(select(SocialConversation))}
    assert set(conversations) == {"111", "222", "6543217890123456"}
    assert conversations["6543217890123456"].platform == "instagram"
    first = session.get(Case, conversations["111"].case_id)
    assert [m.body for m in session.scalars(select(Message).where(Message.case_id == first.id)
                                            .order_by(Message.id))] == \
        ["Fråga ett", "Tillägg till fråga ett"]
    ig_identity = session.scalar(select(ContactIdentity)
                                 .where(ContactIdentity.value == "6543217890123456"))
    assert ig_identity.kind == "instagram_id"


def _conversation_case(session, citizen: str) -> Case:
    conversation = session.scalar(select(SocialConversation)
                                  .where(SocialConversation.citizen_id == citizen))
    return session.get(Case, conversation.case_id)


def test_a_closed_case_reopens_within_the_window(client, session, meta_app):
    post_signed(client, delivery(text_event(PSID, "Första frågan")))
    case = _conversation_case(session, PSID)
    case.status, case.resolved_at = CaseStatus.CLOSED, utcnow() - timedelta(days=3)
    case.closed_at = utcnow() - timedelta(days=2)
    session.commit()
    post_signed(client, delivery(text_event(PSID, "Det blev inte bra ändå")))
    reopened = _conversation_case(session, PSID)
    assert reopened.id == case.id
    assert reopened.status == CaseStatus.OPEN and reopened.closed_at is None


def test_after_the_window_a_new_case_is_opened(client, session, meta_app):
    post_signed(client, delivery(text_event(PSID, "Första frågan")))
    old = _conversation_case(session, PSID)
    contact_id = old.contact_id
    old.status, old.resolved_at = CaseStatus.CLOSED, utcnow() - timedelta(days=31)
    old.closed_at = utcnow() - timedelta(days=30)
    session.commit()
    post_signed(client, delivery(text_event(PSID, "En helt ny fråga")))
    new = _conversation_case(session, PSID)
    assert new.id != old.id and new.subject == "En helt ny fråga"
    assert new.contact_id == contact_id
    assert session.get(Case, old.id).status == CaseStatus.CLOSED
    assert session.scalar(select(func.count()).select_from(ContactIdentity)
                          .where(ContactIdentity.value == PSID)) == 1


def test_attachments_only_and_long_first_lines(client, session, meta_app):
    image = text_event("333", "")
    image["message"] = {"mid": "m_image1", "attachments": [
        {"type": "image", "payload": {"url": "https://lookaside.fbsbx.com/x.jpg"}}]}
    long = text_event("444", "Hej " * 60 + "\nandra raden")
    post_signed(client, delivery(image, long))
    image_case = _conversation_case(session, "333")
    assert image_case.subject == "Meddelande via Messenger"
    body = session.scalar(select(Message.body).where(Message.case_id == image_case.id))
    assert body == "[Bilaga: image]"
    long_case = _conversation_case(session, "444")
    assert len(long_case.subject) == 80 and long_case.subject.endswith("…")


def test_a_timestamp_ahead_of_our_clock_is_clamped(client, session, meta_app):
    ahead = int((utcnow() + timedelta(minutes=5)).timestamp() * 1000)
    assert post_signed(client, delivery(text_event(PSID, "Hej", timestamp_ms=ahead))) \
        .status_code == 200
    assert _conversation_case(session, PSID).received_at <= utcnow()
