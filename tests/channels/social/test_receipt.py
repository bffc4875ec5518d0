"""The Messenger receipt (SOCIAL_ACKNOWLEDGE=on): a new case gets one, sent with the link to
the citizen's view of the case; the link's token is never stored in the conversation."""

import json
import re
import uuid

from sqlalchemy import select

from citizencenter.cases.enums import Direction
from citizencenter.cases.models import Message
from citizencenter.channels.social import replies
from citizencenter.channels.social.models import DeliveryStatus, SocialConversation
from citizencenter.citizen_view import links
from citizencenter.outbox import OutboxMessage
from tests.channels.social.conftest import delivery, post_signed, text_event


def _psid() -> str:
    return str(7_000_000_000_000_000 + uuid.uuid4().int % 10**15)


def _receipts(session, case_id):
    return list(session.scalars(select(Message).where(
        Message.case_id == case_id, Message.direction == Direction.OUTBOUND)))


def test_a_new_case_gets_a_receipt_with_the_link(client, session, meta_app, monkeypatch,
                                                sender_with):
    monkeypatch.setitem(meta_app.config, "SOCIAL_ACKNOWLEDGE", "on")
    monkeypatch.setitem(meta_app.config, "PUBLIC_BASE_URL", "https://medborgarcenter.example")
    psid = _psid()
    assert post_signed(client, delivery(text_event(psid, "Hej, var lämnar jag grovsopor?"))
                       ).status_code == 200
    case_id = session.scalar(select(SocialConversation.case_id)
                             .where(SocialConversation.citizen_id == psid))
    [receipt] = _receipts(session, case_id)
    assert receipt.channel_metadata["kind"] == "acknowledgement"
    assert "/mitt-arende/" not in receipt.body
    assert {"message_id": receipt.id} in [
        r.payload for r in session.scalars(select(OutboxMessage)
                                           .where(OutboxMessage.topic == "social.reply_added"))]
    # The citizen writes again on the same case: no second receipt.
    post_signed(client, delivery(text_event(psid, "Och farligt avfall?")))
    assert len(_receipts(session, case_id)) == 1

    sender, transport = sender_with()
    assert replies.send_reply(session, receipt.id, sender, meta_app.config) \
        == DeliveryStatus.SENT
    sent = json.loads(transport.requests[0].body)["message"]["text"]
    link = re.search(r"https://medborgarcenter\.example/mitt-arende/(\S+)", sent)
    assert links.read_token(meta_app.config, link.group(1))[0] == case_id


def test_no_receipt_unless_configured(client, session, meta_app):
    psid = _psid()
    post_signed(client, delivery(text_event(psid, "Hej!")))
    case_id = session.scalar(select(SocialConversation.case_id)
                             .where(SocialConversation.citizen_id == psid))
    assert _receipts(session, case_id) == []
