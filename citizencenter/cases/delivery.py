"""What became of each outgoing message: queued, sent, failed (with the reason) or
uncertain (an attempt was interrupted mid-send; a person checks). Read from what the
channels already record: e-mail in the message's channel_metadata["email"] (outbound.py),
social replies in their delivery rows, which the social channel provides at app start
(cases sits below the channels)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from citizencenter.cases.enums import Channel, Direction
from citizencenter.cases.models import Message

QUEUED, SENT, FAILED, UNCERTAIN = "queued", "sent", "failed", "uncertain"
STATES = (QUEUED, SENT, FAILED, UNCERTAIN)
FINAL_STATES = frozenset({SENT, FAILED, UNCERTAIN})
# Channels whose outbound messages a worker sends to the citizen (cases.service.REPLY_TOPICS).
SENT_CHANNELS = frozenset({Channel.EMAIL, Channel.SOCIAL})
_EMAIL_STATES = {"queued": QUEUED, "sent": SENT, "failed": FAILED, "no-address": FAILED,
                 "uncertain": UNCERTAIN}
_EMAIL_REASONS = {"no-address": "The contact has no e-mail address."}


@dataclass(frozen=True)
class Delivery:
    state: str  # one of STATES
    channel: str  # what carries it: email, social
    reason: str | None = None  # why it failed
    sent_at: datetime | None = None
    failed_at: datetime | None = None


# (session, message ids) -> {message id: Delivery} for the messages a channel keeps apart.
Lookup = Callable[[Session, list[int]], dict[int, Delivery]]
_lookups: list[Lookup] = []


def provide(lookup: Lookup) -> None:
    """Let a channel that records deliveries in its own table answer for its messages."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def deliveries(session: Session, messages: Iterable[Message]) -> dict[int, Delivery]:
    """The delivery of each outgoing message among `messages`, by message id; notes,
    inbound messages and what a guide logged of a call or visit have none."""
    sent = [m for m in messages if m.direction == Direction.OUTBOUND]
    found = {m.id: d for m in sent if (d := _from_metadata(m)) is not None}
    rest = [m.id for m in sent if m.id not in found and m.channel in SENT_CHANNELS]
    for lookup in _lookups:
        if rest:
            found.update(lookup(session, rest))
    for message in sent:
        if message.id not in found and message.channel in SENT_CHANNELS:
            found[message.id] = Delivery(QUEUED, message.channel.value)  # no task ran yet
    return found


def attach(session: Session, messages: Iterable[Message]) -> None:
    """Set `delivery` on each message for the API's MessageSchema (None: not sent)."""
    messages = list(messages)
    found = deliveries(session, messages)
    for message in messages:
        message.delivery = found.get(message.id)


def _from_metadata(message: Message) -> Delivery | None:
    metadata = message.channel_metadata or {}
    email = metadata.get("email")
    if isinstance(email, dict) and "status" in email:
        status = email["status"]
        return Delivery(_EMAIL_STATES.get(status, QUEUED), "email",
                        reason=email.get("reason") or _EMAIL_REASONS.get(status),
                        sent_at=_moment(email.get("sent_at")),
                        failed_at=_moment(email.get("failed_at")))
    social = metadata.get("social")
    if isinstance(social, dict) and social.get("status") == "failed":
        return Delivery(FAILED, "social", reason=social.get("reason"))
    return None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
