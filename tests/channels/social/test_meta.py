"""Meta webhooks: the subscription handshake, signatures, payloads and the Send API request."""

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from citizencenter.channels.social.meta import (
    MetaAttachment,
    MetaPayloadInvalid,
    MetaSignatureInvalid,
    MetaVerificationFailed,
    build_send_request,
    parse_webhook,
    parse_webhook_batch,
    split_text,
    verify_signature,
    verify_subscription,
)

APP_SECRET = "3f1c0a9d8e7b6a5f4e3d2c1b0a998877"
PAGE_ID = "104592718855123"
IG_ACCOUNT_ID = "17841405822304914"
PSID = "7052512838139489"
IGSID = "6543217890123456"

MESSENGER_TEXT = {
    "object": "page",
    "entry": [{
        "id": PAGE_ID, "time": 1772442000123,
        "messaging": [{
            "sender": {"id": PSID}, "recipient": {"id": PAGE_ID},
            "timestamp": 1772441999870,
            "message": {"mid": ("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8f"
                                "plwlqLP_5cgXIbu7I3rBN0P"),
                        "text": "Hej! När har återvinningscentralen öppet på lördag?"},
        }],
    }],
}
INSTAGRAM_TEXT = {
    "object": "instagram",
    "entry": [{
        "time": 1772445600456, "id": IG_ACCOUNT_ID,
        "messaging": [{
            "sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID},
            "timestamp": 1772445600100,
            "message": {"mid": ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4"
                                "MjM2Njg0MTcxMDMwMDk0OTEyODE3NTE5MDM4MjY0OTk2NDozMTk5NjM1NDE0"
                                "Mjc5NjE5MjQ4NjQzMzQ1Mzk4NDQ1NjY0AZDZD"),
                        "text": "Hur ansöker jag om parkeringstillstånd? 🚗"},
        }],
    }],
}
ECHO = {
    "object": "page",
    "entry": [{
        "id": PAGE_ID, "time": 1772442100000,
        "messaging": [{
            "sender": {"id": PAGE_ID}, "recipient": {"id": PSID},
            "timestamp": 1772442099500,
            "message": {"is_echo": True, "app_id": 1517776481860111,
                        "metadata": "case:MC-2026-000123",
                        "mid": "m_echo-1IA1PJ3ZFG0V8uLzS2SIc0rGk8ZNZ9CFQ",
                        "text": "Lördagar 9–15. Välkommen!"},
        }],
    }],
}
READ_RECEIPT = {
    "object": "page",
    "entry": [{
        "id": PAGE_ID, "time": 1772442200000,
        "messaging": [{"sender": {"id": PSID}, "recipient": {"id": PAGE_ID},
                       "timestamp": 1772442199000, "read": {"watermark": 1772442099500}}],
    }],
}
ATTACHMENTS = {
    "object": "page",
    "entry": [{
        "id": PAGE_ID, "time": 1772442300000,
        "messaging": [{
            "sender": {"id": PSID}, "recipient": {"id": PAGE_ID},
            "timestamp": 1772442299000,
            "message": {
                "mid": "m_attachment-Ue9QWm3KJ1nT",
                "attachments": [
                    {"type": "image", "payload": {
                        "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/trasig_lykta.jpg?oh=abc"}},
                    {"type": "file", "payload": {
                        "url": "https://cdn.fbsbx.com/v/t59.2708-21/ansokan.pdf?oh=def"}},
                    {"type": "template", "payload": {"template_type": "generic"}},
                ],
            },
        }],
    }],
}
BATCH = {
    "object": "page",
    "entry": [
        {"id": PAGE_ID, "time": 1772443000000, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1772442990000,
             "message": {"mid": "m_batch-1", "text": "Första"}},
            {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1772442991000,
             "delivery": {"mids": ["m_echo-1"], "watermark": 1772442990500}},
            {"sender": {"id": "7052512838139490"}, "recipient": {"id": PAGE_ID},
             "timestamp": 1772442992000, "message": {"mid": "m_batch-2", "text": "Andra"}},
        ]},
        {"id": "104592718855999", "time": 1772443000001, "messaging": [
            {"sender": {"id": "5550001112223334"}, "recipient": {"id": "104592718855999"},
             "timestamp": 1772442993000, "read": {"watermark": 1772442000000}},
            {"sender": {"id": "5550001112223334"}, "recipient": {"id": "104592718855999"},
             "timestamp": 1772442994000, "message": {"mid": "m_batch-3", "text": "Tredje"}},
        ]},
    ],
}


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- subscription

def test_verify_subscription_returns_the_challenge():
    args = {"hub.mode": "subscribe", "hub.verify_token": "lund-mc-verify",
            "hub.challenge": "1158201444"}
    assert verify_subscription(args, "lund-mc-verify") == "1158201444"


@pytest.mark.parametrize("args", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "lund-mc-verify", "hub.challenge": "1"},
    {"hub.verify_token": "lund-mc-verify", "hub.challenge": "1158201444"},
    {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    {"hub.mode": "subscribe", "hub.verify_token": "lund-mc-verify"},
    {"hub.mode": "subscribe", "hub.verify_token": "lund-mc-verify",
     "hub.challenge": "<script>alert(1)</script>"},
    {},
])
def test_verify_subscription_refuses(args):
    with pytest.raises(MetaVerificationFailed):
        verify_subscription(args, "lund-mc-verify")


def test_verify_subscription_refuses_when_no_token_is_configured():
    with pytest.raises(MetaVerificationFailed):
        verify_subscription({"hub.mode": "subscribe", "hub.verify_token": "",
                             "hub.challenge": "1"}, "")


# ---------------------------------------------------------------- signatures

def test_valid_signature_passes():
    body = json.dumps(MESSENGER_TEXT, ensure_ascii=False).encode()
    verify_signature(body, sign(body), APP_SECRET)
    verify_signature(body, sign(body).upper().replace("SHA256=", "sha256="), APP_SECRET)


@pytest.mark.parametrize("header", [
    None, "", "sha256=", "sha1=" + "0" * 40, "sha256=xyz", "sha256=" + "0" * 63,
    "sha256=" + "0" * 64, "SHA256=" + "0" * 64, "0" * 64,
])
def test_bad_signatures_are_refused(header):
    with pytest.raises(MetaSignatureInvalid):
        verify_signature(b'{"object":"page","entry":[]}', header, APP_SECRET)


def test_signature_covers_the_raw_body_and_the_secret():
    body = json.dumps(MESSENGER_TEXT).encode()
    header = sign(body)
    with pytest.raises(MetaSignatureInvalid):
        verify_signature(body + b" ", header, APP_SECRET)  # same JSON, other bytes
    with pytest.raises(MetaSignatureInvalid):
        verify_signature(body, header, "another-app-secret")
    with pytest.raises(ValueError):
        verify_signature(body, header, "")


# ---------------------------------------------------------------- payloads

def test_messenger_text_message():
    [message] = parse_webhook(MESSENGER_TEXT)
    assert message.platform == "messenger"
    assert message.page_or_account_id == PAGE_ID
    assert message.sender_id == PSID and message.recipient_id == PAGE_ID
    assert message.mid.startswith("m_AG5Hz2Uq7")
    assert message.text == "Hej! När har återvinningscentralen öppet på lördag?"
    assert message.attachments == ()
    assert message.timestamp == datetime(2026, 3, 2, 8, 59, 59, 870000, tzinfo=UTC)
    assert message.is_echo is False
    assert message.conversation_key == ("messenger", PAGE_ID, PSID)


def test_instagram_message():
    [message] = parse_webhook(INSTAGRAM_TEXT)
    assert message.platform == "instagram"
    assert message.page_or_account_id == IG_ACCOUNT_ID
    assert message.text.endswith("🚗")
    assert message.conversation_key == ("instagram", IG_ACCOUNT_ID, IGSID)


def test_echo_belongs_to_the_citizens_conversation():
    [echo] = parse_webhook(ECHO)
    assert echo.is_echo is True
    assert echo.sender_id == PAGE_ID
    assert echo.citizen_id == PSID
    assert echo.conversation_key == parse_webhook(MESSENGER_TEXT)[0].conversation_key


def test_read_receipt_is_counted_not_returned():
    batch = parse_webhook_batch(READ_RECEIPT)
    assert batch.messages == []
    assert batch.ignored == {"read": 1}


def test_attachments():
    [message] = parse_webhook(ATTACHMENTS)
    assert message.text is None
    assert message.attachments == (
        MetaAttachment("image", "https://scontent.xx.fbcdn.net/v/t1.15752-9/trasig_lykta.jpg?oh=abc"),
        MetaAttachment("file", "https://cdn.fbsbx.com/v/t59.2708-21/ansokan.pdf?oh=def"),
        MetaAttachment("template", None),
    )


def test_batched_entries_keep_order_and_pages():
    batch = parse_webhook_batch(BATCH)
    assert [m.mid for m in batch.messages] == ["m_batch-1", "m_batch-2", "m_batch-3"]
    assert [m.page_or_account_id for m in batch.messages] == [
        PAGE_ID, PAGE_ID, "104592718855999"]
    assert len({m.conversation_key for m in batch.messages}) == 3
    assert batch.ignored == {"delivery": 1, "read": 1}


def test_other_events_are_counted():
    payload = {"object": "instagram", "entry": [
        {"id": IG_ACCOUNT_ID, "time": 1, "messaging": [
            {"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 1,
             "reaction": {"mid": "m1", "action": "react", "reaction": "love", "emoji": "❤"}},
            {"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 2,
             "message": {"mid": "m2", "is_deleted": True}},
            {"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 3,
             "postback": {"mid": "m3", "title": "Kontakta oss", "payload": "CONTACT"}},
        ]},
        {"id": IG_ACCOUNT_ID, "time": 2, "changes": [{"field": "comments", "value": {}}]},
    ]}
    batch = parse_webhook_batch(payload)
    assert batch.messages == []
    assert batch.ignored == {"reaction": 1, "message_deleted": 1, "postback": 1, "changes": 1}


def test_numeric_ids_are_read_as_strings():
    payload = copy.deepcopy(MESSENGER_TEXT)
    payload["entry"][0]["id"] = int(PAGE_ID)
    payload["entry"][0]["messaging"][0]["sender"]["id"] = int(PSID)
    [message] = parse_webhook(payload)
    assert (message.page_or_account_id, message.sender_id) == (PAGE_ID, PSID)


def _broken(path: list, value) -> dict:
    payload = copy.deepcopy(MESSENGER_TEXT)
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


MESSAGING = ["entry", 0, "messaging", 0]


@pytest.mark.parametrize(("payload", "named"), [
    ([], "payload"),
    ({"entry": []}, "object"),
    ({"object": "whatsapp_business_account", "entry": []}, "object"),
    ({"object": ["page"], "entry": []}, "object"),
    ({"object": "page"}, "entry"),
    ({"object": "page", "entry": {}}, "entry"),
    ({"object": "page", "entry": ["x"]}, "entry[0]"),
    (_broken(["entry", 0, "id"], KeyError), "entry[0].id"),
    (_broken(["entry", 0, "messaging"], "x"), "entry[0].messaging"),
    (_broken(MESSAGING, 5), "entry[0].messaging[0]"),
    (_broken([*MESSAGING, "sender"], KeyError), "entry[0].messaging[0].sender"),
    (_broken([*MESSAGING, "sender", "id"], ""), "entry[0].messaging[0].sender.id"),
    (_broken([*MESSAGING, "recipient", "id"], True), "entry[0].messaging[0].recipient.id"),
    (_broken([*MESSAGING, "timestamp"], KeyError), "entry[0].messaging[0].timestamp"),
    (_broken([*MESSAGING, "timestamp"], "yesterday"), "entry[0].messaging[0].timestamp"),
    (_broken([*MESSAGING, "timestamp"], 10**30), "entry[0].messaging[0].timestamp"),
    (_broken([*MESSAGING, "message"], "hej"), "entry[0].messaging[0].message"),
    (_broken([*MESSAGING, "message", "mid"], KeyError), "entry[0].messaging[0].message.mid"),
    (_broken([*MESSAGING, "message", "text"], 42), "entry[0].messaging[0].message.text"),
    (_broken([*MESSAGING, "message", "attachments"], {}),
     "entry[0].messaging[0].message.attachments"),
    (_broken([*MESSAGING, "message", "attachments"], [{"payload": {}}]),
     "entry[0].messaging[0].message.attachments[0].type"),
    (_broken([*MESSAGING, "message", "attachments"], [{"type": "image", "payload": {"url": 1}}]),
     "entry[0].messaging[0].message.attachments[0].payload.url"),
])
def test_malformed_payloads_name_the_field(payload, named):
    with pytest.raises(MetaPayloadInvalid) as error:
        parse_webhook(payload)
    assert str(error.value).startswith(f"{named} ")


# ---------------------------------------------------------------- sending

TOKEN = "EAAGm0PX4ZCpsBAKZCZCcM8Zz9LqZBJg4ZAZDZD"


def test_send_request_byte_for_byte():
    [request] = build_send_request(TOKEN, APP_SECRET, PSID,
                                   "Hej! Lördagar 9–15. Välkommen “hem”.")
    proof = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert request.method == "POST"
    assert request.url == (f"https://graph.facebook.com/v19.0/me/messages"
                           f"?access_token={TOKEN}&appsecret_proof={proof}")
    assert request.headers == {"Content-Type": "application/json"}
    assert request.body == (
        '{"recipient":{"id":"7052512838139489"},"messaging_type":"RESPONSE",'
        '"message":{"text":"Hej! Lördagar 9–15. Välkommen “hem”."}}').encode()


def test_send_request_version_and_query_escaping():
    [request] = build_send_request("tok+en/=", APP_SECRET, PSID, "Hej", graph_version="v21.0")
    parts = urlsplit(request.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "graph.facebook.com", "/v21.0/me/messages")
    query = parse_qs(parts.query)
    assert query["access_token"] == ["tok+en/="]
    assert query["appsecret_proof"] == [
        hmac.new(APP_SECRET.encode(), b"tok+en/=", hashlib.sha256).hexdigest()]


def test_repr_hides_token_and_text():
    [request] = build_send_request(TOKEN, APP_SECRET, PSID, "Personligt svar")
    assert TOKEN not in repr(request) and "Personligt" not in repr(request)


def test_long_text_is_split_into_several_requests():
    paragraph = "Återvinningscentralen på Gastelyckan har öppet vardagar 07–19. " * 20
    text = "\n\n".join([paragraph.strip()] * 3)  # about 3 × 1260 characters
    requests = build_send_request(TOKEN, APP_SECRET, PSID, text)
    texts = [json.loads(r.body)["message"]["text"] for r in requests]
    assert len(requests) == 3
    assert texts == [paragraph.strip()] * 3
    assert all(len(t) <= 2000 for t in texts)
    assert len({r.url for r in requests}) == 1


def test_split_text_without_spaces_cuts_hard_and_keeps_everything():
    text = "x" * 4500
    parts = split_text(text)
    assert [len(p) for p in parts] == [2000, 2000, 500]
    assert "".join(parts) == text


def test_split_text_counts_emoji_as_two_units():
    parts = split_text("🚗" * 1500)
    assert [len(p) for p in parts] == [1000, 500]


def test_split_text_prefers_word_ends():
    words = " ".join(["ord"] * 700)  # 2799 characters
    parts = split_text(words)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words
    assert len(split_text("kort")) == 1


@pytest.mark.parametrize(("token", "secret", "recipient", "text", "version"), [
    ("", APP_SECRET, PSID, "Hej", "v19.0"),
    (TOKEN, "", PSID, "Hej", "v19.0"),
    (TOKEN, APP_SECRET, "", "Hej", "v19.0"),
    (TOKEN, APP_SECRET, PSID, "   ", "v19.0"),
    (TOKEN, APP_SECRET, PSID, "Hej", "19.0/../../x"),
])
def test_send_request_rejects_bad_input(token, secret, recipient, text, version):
    with pytest.raises(ValueError):
        build_send_request(token, secret, recipient, text, graph_version=version)
