import json
import uuid

import pytest
import redis
from kombu.exceptions import OperationalError
from sqlalchemy import select

from citizencenter import outbox
from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.service import entries_for
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.outbox import OutboxMessage, Publisher
from citizencenter.routing.service import route_case


def _open(session, channel=Channel.EMAIL):
    return cases.open_case(session, SYSTEM, channel=channel, subject="Fråga",
                           description="Hej")


def test_route_case_is_idempotent(session):
    case = _open(session, Channel.SOCIAL)
    assert route_case(session, case.id) is True
    assert route_case(session, case.id) is False
    session.refresh(case)
    assert case.queue.slug == "sociala-medier" and case.routed_at is not None
    assert [e.action for e in entries_for(session, "case", case.id)].count("case.routed") == 1
    assert route_case(session, uuid.uuid4()) is False


def test_relay_publishes_each_pending_row_to_the_broker_once(session, redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.delete("celery")
    first, second = _open(session), _open(session)
    publisher = Publisher(redis_server.url)
    pending = session.scalars(select(OutboxMessage)
                              .where(OutboxMessage.published_at.is_(None))).all()
    assert outbox.relay(session, publisher) == len(pending) >= 2
    assert outbox.relay(session, publisher) == 0
    messages = [json.loads(m) for m in client.lrange("celery", 0, -1)]
    tasks = [m["headers"]["task"] for m in messages]
    # New cases wake the router once per relay batch, naming them all; each row is
    # published (and kept for reconciliation), once.
    assert tasks.count("routing.route_case") == 1
    bodies = [json.loads(__import__("base64").b64decode(m["body"])) for m in messages]
    woken = [row for row in pending if row.topic == "case.created"]
    assert [[{"case_ids": [row.payload["case_id"] for row in woken]}], {}, {
        "callbacks": None, "errbacks": None, "chain": None, "chord": None}] in bodies
    assert [str(first.id), str(second.id)] == [row.payload["case_id"] for row in woken][-2:]
    for row in woken:
        session.refresh(row)
        assert row.published_at is not None and row.attempts == 1
    client.delete("celery")


def test_relay_keeps_rows_when_the_broker_is_down(session):
    _open(session)
    dead = Publisher("redis://127.0.0.1:1/0")
    pending = (select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
               .order_by(OutboxMessage.id))
    before = session.scalars(pending).all()
    with pytest.raises(OperationalError):
        outbox.relay(session, dead)
    after = session.scalars(pending).all()
    assert len(after) == len(before)
    # The first message failed and its rows say why (every new case's row: they go as
    # one wake-up); the rest were not tried.
    tried = [row for row in after if row.topic == after[0].topic] \
        if after[0].topic in outbox.COALESCED else after[:1]
    assert all(row.attempts == 1 and row.last_error.startswith("OperationalError: ")
               for row in tried)
    assert all(row.attempts == 0 for row in after if row not in tried)


def test_payloads_carry_ids_only(session):
    case = cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Samtal",
                           description="Personnummer 19121212-1212",
                           contact={"name": "Tolvan Tolvansson", "phone": "+46701234567"})
    rows = session.scalars(select(OutboxMessage)).all()
    row = next(r for r in rows if r.payload.get("case_id") == str(case.id))
    assert row.payload == {"case_id": str(case.id)}
