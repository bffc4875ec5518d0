"""Transactional outbox: work for Celery is written with the data and published after commit.

A row is added in the caller's transaction (`enqueue`). After commit the relay is
kicked; a beat task also runs it every second, so a Redis outage only delays work.
Publishing is at-least-once; every task is idempotent. Topics whose task takes
whatever waits (`COALESCED`) are sent once per relay batch, with the batch's ids in one
payload, while each row stays in the table for reconciliation.
"""

import contextlib
import logging
import time
from datetime import datetime

import redis
from celery import Celery
from sqlalchemy import JSON, Index, String, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from citizencenter import log_context
from citizencenter.db import Base, delete_in_slices, is_postgresql, utcnow

log = logging.getLogger(__name__)

# topic -> Celery task name; the only coupling between services and workers.
TOPIC_TASKS = {
    "case.created": "routing.route_case",
    "calls.events_received": "phone.apply_call_events",
    "social.reply_added": "social.send_reply",
    "email.acknowledge": "email.send_acknowledgement",
    "email.send_reply": "email.send_reply",
    "calls.applied": "routing.apply_call_presence",
    "calls.need_cases": "phone.link_call_cases",
    "calls.answered": "workspace.screen_pop",
    "routing.case_waiting": "routing.assign_case",
    "routing.guide_available": "routing.pull_for_guide",
    "routing.capacity_freed": "routing.pull_for_guide",
    "routing.case_forwarded": "routing.notify_department",
    "routing.webhook_test": "routing.send_webhook_test",
    "sla.notification": "sla.send_notification",
    "case.resolved": "feedback.request_feedback",
    "accounts.password_reset": "accounts.send_password_reset",
    "knowledge.change_proposed": "knowledge.notify_owner",
}
# Call events have a queue of their own, so call state never waits behind a burst of
# case intake and routing; nor does a guide's screen pop of an answered call. A worker
# started without -Q consumes every queue, in turn.
TASK_QUEUES = {"phone.apply_call_events": "calls", "workspace.screen_pop": "calls"}
QUEUES = ("celery", "calls")  # "celery" is Celery's default queue
# Topics whose task drains every waiting item (routing.route_case routes every new case
# that waits, in batches): the rows of a relay batch go as one message whose payload
# lists their ids under the plural key, {"case_ids": [...]}, not one message each.
COALESCED = {"case.created": ("case_id", "case_ids")}
RELAY_TASK = "outbox.relay"
KICK_KEY = "citizencenter:outbox:kick"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_pending", "id", postgresql_where=text("published_at IS NULL"),
              sqlite_where=text("published_at IS NULL")),
        # Recently published work (reconciliation leaves it alone) and the purge.
        Index("ix_outbox_messages_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The request that wrote the row: sent as the task's header, so the task's log lines
    # carry it and one case can be followed from its request into its tasks.
    request_id: Mapped[str | None] = mapped_column(String(200))


def enqueue(session: Session, topic: str, payload: dict) -> None:
    """Add work for a worker to the caller's transaction. Payloads carry ids only."""
    if topic not in TOPIC_TASKS:
        raise ValueError(f"unknown outbox topic {topic!r}")
    session.add(OutboxMessage(topic=topic, payload=payload,
                              request_id=log_context.request_id()))
    session.info["outbox_pending"] = True


class Publisher:
    """Sends Celery messages by task name without importing the worker code."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.celery = Celery("citizencenter-publisher", broker=redis_url, set_as_current=False)
        self.celery.conf.update(
            broker_transport_options={"socket_connect_timeout": 0.5, "socket_timeout": 2},
            task_serializer="json",
        )
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5,
                                          socket_timeout=1)
        self._quiet_until = 0.0

    def send(self, task_name: str, args: list, request_id: str | None = None) -> None:
        # The request id rides as a message header, not an argument: task signatures and
        # the messages already queued stay as they are.
        headers = {"request_id": request_id} if request_id else None
        with self.celery.producer_or_acquire() as producer:
            # Fail at once when the broker is down; kombu would otherwise retry for seconds.
            producer.connection.ensure_connection(max_retries=1, interval_start=0,
                                                  interval_step=0)
            self.celery.send_task(task_name, args=args, retry=False, producer=producer,
                                  queue=TASK_QUEUES.get(task_name, QUEUES[0]),
                                  headers=headers)

    def kick(self) -> None:
        """Ask a worker to run the relay now; at most one kick waits at a time."""
        if time.monotonic() < self._quiet_until:
            return
        try:
            if self.redis.set(KICK_KEY, "1", nx=True, px=5000):
                self.send(RELAY_TASK, [])
        except Exception as exc:
            # Redis is down: the beat schedule relays once it is back. Stay quiet a
            # while so requests do not each pay for a failing connection.
            self._quiet_until = time.monotonic() + 5
            log.warning("outbox kick failed: %s", type(exc).__name__)


def relay(session: Session, publisher: Publisher, batch: int = 200) -> int:
    """Publish pending outbox rows in id order; return how many were published."""
    with contextlib.suppress(redis.RedisError):  # a failed send below records the outage
        publisher.redis.delete(KICK_KEY)
    published = 0
    while True:
        query = (select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
                 .order_by(OutboxMessage.id).limit(batch))
        if is_postgresql(session):
            query = query.with_for_update(skip_locked=True)
        rows = session.scalars(query).all()
        if not rows:
            session.commit()
            return published
        for message, sent in _messages(rows):
            for row in sent:
                row.attempts += 1
            try:
                publisher.send(TOPIC_TASKS[sent[0].topic], [message],
                               log_context.joined(row.request_id for row in sent))
            except Exception as exc:
                for row in sent:
                    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                session.commit()
                raise
            now = utcnow()
            for row in sent:
                row.published_at = now
        session.commit()
        published += len(rows)


def _messages(rows: list[OutboxMessage]) -> list[tuple[dict, list[OutboxMessage]]]:
    """The messages to send for a batch of rows, in id order, each with the rows it
    publishes: one per row, but one per coalesced topic (at its first row's place)."""
    messages: list[tuple[dict, list[OutboxMessage]]] = []
    grouped: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        if row.topic not in COALESCED:
            messages.append((row.payload, [row]))
        elif row.topic in grouped:
            grouped[row.topic].append(row)
        else:
            grouped[row.topic] = [row]
            messages.append(({}, grouped[row.topic]))
    out = []
    for payload, sent in messages:
        if sent[0].topic in COALESCED:
            one, many = COALESCED[sent[0].topic]
            ids: list = []
            for row in sent:
                value = row.payload.get(many, row.payload.get(one))
                ids.extend(value if isinstance(value, list) else [value] if value else [])
            payload = {many: list(dict.fromkeys(ids))}
        out.append((payload, sent))
    return out


def in_flight(session: Session, topics: list[str], published_since: datetime
              ) -> dict[str, list[dict]]:
    """Payloads per topic still to be published, or published since the given time.

    Reconciliation leaves their effects alone: the relay or a worker is still on them.
    """
    rows = session.execute(select(OutboxMessage.topic, OutboxMessage.payload).where(
        OutboxMessage.topic.in_(topics),
        OutboxMessage.published_at.is_(None) | (OutboxMessage.published_at >= published_since)))
    found: dict[str, list[dict]] = {topic: [] for topic in topics}
    for topic, payload in rows:
        found[topic].append(payload)
    return found


def purge_published(session: Session, older_than: datetime) -> int:
    return delete_in_slices(session, OutboxMessage, OutboxMessage.published_at < older_than)


_publisher: Publisher | None = None


def set_publisher(publisher: Publisher | None) -> None:
    """Choose where this process publishes (the web app and the worker each set one)."""
    global _publisher
    _publisher = publisher


def get_publisher() -> Publisher | None:
    return _publisher


@event.listens_for(Session, "after_commit")
def _kick_after_commit(sess: Session) -> None:
    if sess.info.pop("outbox_pending", False) and _publisher is not None:
        _publisher.kick()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(sess: Session, _previous_transaction) -> None:
    sess.info.pop("outbox_pending", None)
