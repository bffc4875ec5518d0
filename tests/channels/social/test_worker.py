"""From Meta's webhook to a guide's reply leaving through a real Celery worker."""

import json
import re
import time

import pytest
from sqlalchemy import delete, select, update

from citizencenter import outbox
from citizencenter.accounts import service as accounts
from citizencenter.cases.models import Case
from citizencenter.channels.social.models import (
    DeliveryStatus,
    SocialConversation,
    SocialDelivery,
    SocialMessage,
)
from citizencenter.contacts.models import Contact, ContactIdentity
from tests.channels.social.conftest import delivery, post_signed, text_event
from tests.factories import bearer

PSID = "9900112233445566"


@pytest.fixture
def social_committed(committed):
    yield committed
    committed.rollback()
    contact_ids = committed.scalars(select(ContactIdentity.contact_id)
                                    .where(ContactIdentity.value == PSID)).all()
    for model in (SocialDelivery, SocialMessage, SocialConversation):
        committed.execute(delete(model))
    committed.execute(update(Case).where(Case.contact_id.in_(contact_ids)).values(contact_id=None))
    committed.execute(delete(ContactIdentity).where(ContactIdentity.contact_id.in_(contact_ids)))
    committed.execute(delete(Contact).where(Contact.id.in_(contact_ids)))
    committed.commit()


def _read(session, query):
    """Read and end the transaction at once: on SQLite it holds the write lock."""
    try:
        return session.scalar(query)
    finally:
        session.rollback()


def _wait_for(condition, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_reply_leaves_once_through_the_worker(meta_app, social_committed, start_celery,
                                                graph_api):
    _, received = graph_api
    client = meta_app.test_client()
    assert post_signed(client, delivery(text_event(PSID, "Hej, är biblioteket öppet?"))) \
        .status_code == 200
    case_id = _read(social_committed, select(SocialConversation.case_id)
                    .where(SocialConversation.citizen_id == PSID))
    _, token = accounts.create_token(social_committed, "guide e2e",
                                     user_email="anna.lindqvist@lund.example")
    reply = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(token),
                        json={"direction": "outbound", "body": "Ja, till klockan 19 i dag."})
    assert reply.status_code == 201
    message_id = reply.get_json()["id"]
    worker = start_celery("worker")
    start_celery("beat")
    _wait_for(lambda: received)
    path, _, body = received[0]
    assert path.startswith("/v19.0/me/messages?access_token=")
    assert json.loads(body) == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                                "message": {"text": "Ja, till klockan 19 i dag."}}

    def sent():
        return _read(social_committed, select(SocialDelivery.status)) == DeliveryStatus.SENT

    _wait_for(sent)
    # At-least-once publishing may hand the task over again: nothing goes out twice.
    outbox.enqueue(social_committed, "social.reply_added", {"message_id": message_id})
    social_committed.commit()

    def relayed():
        return _read(social_committed, select(outbox.OutboxMessage.published_at).where(
            outbox.OutboxMessage.topic == "social.reply_added")
            .order_by(outbox.OutboxMessage.id.desc()).limit(1)) is not None

    _wait_for(relayed)
    _wait_for(lambda: len(re.findall(r"Task social\.send_reply\[[^\]]+\] succeeded",
                                     worker.output())) >= 2)
    assert len(received) == 1
