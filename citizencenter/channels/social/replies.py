"""Sending a guide's reply on a social case, part by part, never one part twice.

Before each part is posted its delivery row is committed as `sending`; after Meta's
answer the outcome is committed. A run that finds a part still `sending` after the
post's timeout knows a worker died mid-post and cannot know whether Meta got it, so the
reply is marked `uncertain` for a guide to check instead of being sent again.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from citizencenter.cases.enums import Channel, Direction
from citizencenter.cases.models import Message
from citizencenter.channels.social.models import (
    DeliveryStatus,
    SocialConversation,
    SocialDelivery,
    SocialMessage,
)
from citizencenter.channels.social.sender import MetaSender
from citizencenter.citizen_view.links import link_for_case
from citizencenter.db import insert_if_absent, is_postgresql, utcnow

S = DeliveryStatus
FINAL = (S.SENT, S.FAILED, S.UNCERTAIN)
# The longest wait between two tries (the task's retry_backoff_max): a reply pending
# longer than this lost its retry, and reconciliation re-drives it.
RETRY_BACKOFF_MAX_S = 600


class SendFailed(RuntimeError):
    """Meta could not be reached or asked us to try later; the task retries."""


class DeliveryInFlight(RuntimeError):
    """Another run is posting this reply right now; the task looks again later."""


def _claim(session: Session, message_id: int) -> SocialDelivery:
    session.execute(insert_if_absent(session, SocialDelivery, "message_id").values(
        message_id=message_id, status=S.PENDING, parts_sent=0, meta_message_ids=[],
        attempts=0, created_at=utcnow()))
    query = select(SocialDelivery).where(SocialDelivery.message_id == message_id)
    if is_postgresql(session):
        query = query.with_for_update()
    return session.scalar(query)


def _recipient(session: Session, message: Message) -> str | None:
    """The citizen who last wrote on this case: replies go to the conversation."""
    return session.scalar(
        select(SocialConversation.citizen_id)
        .join(SocialMessage, SocialMessage.conversation_id == SocialConversation.id)
        .where(SocialMessage.case_id == message.case_id)
        .order_by(SocialMessage.sent_at.desc(), SocialMessage.id.desc()).limit(1))


def _finish(session: Session, delivery: SocialDelivery, status: DeliveryStatus,
            error: str | None) -> DeliveryStatus:
    delivery.status, delivery.last_error = status, error
    if status == S.SENT:
        delivery.sent_at = utcnow()
    session.commit()
    return status


def send_reply(session: Session, message_id: int, sender: MetaSender,
               config: Mapping | None = None) -> DeliveryStatus | None:
    """Post an outbound message of a social case to Meta; safe to run again. A receipt
    gets the link to the citizen's view of the case (with `config`)."""
    message = session.get(Message, message_id)
    if message is None or message.direction != Direction.OUTBOUND \
            or message.channel != Channel.SOCIAL:
        session.rollback()
        return None
    delivery = _claim(session, message_id)
    if delivery.status in FINAL:
        session.commit()
        return delivery.status
    if delivery.status == S.SENDING:
        if delivery.claimed_at > utcnow() - sender.in_flight_for:
            session.rollback()
            raise DeliveryInFlight(f"delivery {delivery.id} is being posted")
        return _finish(session, delivery, S.UNCERTAIN,
                       "An earlier post got no answer; not sent again.")
    if not sender.configured:
        return _finish(session, delivery, S.FAILED, "Sending to Meta is not configured.")
    recipient = _recipient(session, message)
    if recipient is None:
        return _finish(session, delivery, S.FAILED, "The case has no Meta conversation.")
    try:
        requests = sender.requests(recipient, _text(message, config))
    except ValueError as exc:  # e.g. a reply of only white space
        return _finish(session, delivery, S.FAILED, f"Not sendable: {exc}.")
    for request in requests[delivery.parts_sent:]:
        delivery.status, delivery.claimed_at = S.SENDING, utcnow()
        delivery.attempts += 1
        session.commit()  # the claim must be durable before Meta sees the request
        outcome = sender.send(request)
        if outcome.result == "sent":
            delivery.parts_sent += 1
            delivery.meta_message_ids = [*delivery.meta_message_ids, outcome.message_id]
            delivery.status, delivery.last_error = S.PENDING, None
            session.commit()
            continue
        if outcome.result == "retry":
            delivery.status, delivery.last_error = S.PENDING, outcome.error
            session.commit()
            raise SendFailed(outcome.error)
        return _finish(session, delivery,
                       S.FAILED if outcome.result == "rejected" else S.UNCERTAIN, outcome.error)
    return _finish(session, delivery, S.SENT, None)


def _text(message: Message, config: Mapping | None) -> str:
    link = link_for_case(config, message.case_id) if config is not None and \
        (message.channel_metadata or {}).get("kind") == "acknowledgement" else None
    return f"{message.body}\n\nHär kan du följa ditt ärende: {link}" if link else message.body


def give_up(session: Session, message_id: int, reason: str) -> DeliveryStatus | None:
    """After the last retry: mark the reply failed, on the case where a guide sees it."""
    message = session.get(Message, message_id)
    if message is None or message.channel != Channel.SOCIAL:
        session.rollback()
        return None
    delivery = _claim(session, message_id)
    if delivery.status in FINAL or delivery.status == S.SENDING:
        session.commit()  # sent, given up, or a post in flight: nothing to record
        return delivery.status
    message.channel_metadata = {**(message.channel_metadata or {}),
                                "social": {"status": "failed", "reason": reason[:200]}}
    return _finish(session, delivery, S.FAILED, reason[:500])


def unsent_replies(session: Session, since: datetime, before: datetime,
                   stalled_before: datetime, limit: int) -> list[int]:
    """Guides' replies on social cases written in [since, before) and never sent."""
    return list(session.scalars(
        select(Message.id)
        .outerjoin(SocialDelivery, SocialDelivery.message_id == Message.id)
        .where(Message.direction == Direction.OUTBOUND, Message.channel == Channel.SOCIAL,
               Message.created_at >= since, Message.created_at < before,
               # A post still `sending` that long ago died: the run marks it uncertain.
               or_(SocialDelivery.id.is_(None), and_(
                   SocialDelivery.status.in_([S.PENDING, S.SENDING]),
                   func.coalesce(SocialDelivery.claimed_at, SocialDelivery.created_at)
                   < stalled_before)))
        .order_by(Message.created_at).limit(limit)))
