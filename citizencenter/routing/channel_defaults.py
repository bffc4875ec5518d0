"""Each channel's default queue: where a case goes when no rule names a queue."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases.enums import Channel
from citizencenter.errors import InvalidInput, NotFound
from citizencenter.organisation.models import ChannelDefaultQueue, Queue


def list_defaults(session: Session) -> list[dict]:
    """Every channel with its default queue's slug (None where it has none)."""
    slugs = dict(session.execute(select(ChannelDefaultQueue.channel, Queue.slug).join(
        Queue, Queue.id == ChannelDefaultQueue.queue_id)).all())
    return [{"channel": channel.value, "queue": slugs.get(channel.value)} for channel in Channel]


def set_default(session: Session, actor: Principal, channel: str, queue: str) -> dict:
    """Make `queue` the channel's default queue; the router reads it for the next case."""
    if channel not in {c.value for c in Channel}:
        raise InvalidInput("channel", f"Unknown channel {channel!r}.")
    target = session.scalar(select(Queue).where(Queue.slug == queue))
    if target is None:
        raise NotFound(f"No queue {queue!r}.")
    row = session.get(ChannelDefaultQueue, channel)
    before = {"queue": session.get(Queue, row.queue_id).slug if row else None}
    if row is None:
        row = ChannelDefaultQueue(channel=channel, queue_id=target.id)
        session.add(row)
    row.queue_id = target.id
    audit.record_changes(session, actor.actor, "channel_default.changed", "channel", channel,
                         before, {"queue": target.slug})
    session.commit()
    return {"channel": channel, "queue": target.slug}
