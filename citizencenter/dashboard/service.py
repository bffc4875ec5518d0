"""The live snapshot in Redis: recomputed from the database by a beat task, published
on change, read by the wallboard (falling back to the database when Redis has none)."""

import json
import time
from collections.abc import Iterator

import redis
from sqlalchemy.orm import Session

from citizencenter.dashboard.figures import live_figures
from citizencenter.db import utcnow
from citizencenter.errors import AppError
from citizencenter.reports.service import ReportSettings

SNAPSHOT_KEY = "citizencenter:dashboard:snapshot"
CHANGES_CHANNEL = "citizencenter:dashboard:changes"
# Kept a while past several beat intervals; after that the endpoint reads the database.
SNAPSHOT_TTL_S = 60
# These grow every second; a change is a change of anything else.
AGES = ("at", "longest_wait_seconds", "oldest_wait_seconds")

def _stable(snapshot: dict) -> dict:
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in AGES}
        return value
    return strip(snapshot)


def publish_snapshot(session: Session, store: redis.Redis, settings: ReportSettings) -> bool:
    """Recompute the figures, store them, and publish them when they changed."""
    snapshot = live_figures(session, utcnow(), settings)
    session.rollback()  # read-only
    previous = store.get(SNAPSHOT_KEY)
    data = json.dumps(snapshot)
    store.set(SNAPSHOT_KEY, data, ex=SNAPSHOT_TTL_S)
    changed = previous is None or _stable(json.loads(previous)) != _stable(snapshot)
    if changed:
        store.publish(CHANGES_CHANNEL, data)
    return changed


def current_snapshot(session: Session, store: redis.Redis, settings: ReportSettings) -> dict:
    """The stored snapshot, or one computed from the database when Redis has none."""
    try:
        stored = store.get(SNAPSHOT_KEY)
    except redis.RedisError:
        stored = None
    if stored:
        return {**json.loads(stored), "source": "redis"}
    snapshot = live_figures(session, utcnow(), settings)
    session.rollback()
    return {**snapshot, "source": "database"}


class LiveFeedUnavailable(AppError):
    status, title, slug = 503, "Live feed unavailable", "live-feed-unavailable"

    def __init__(self):
        super().__init__("The live feed needs Redis, which is not reachable now; "
                         "/api/v1/dashboard/live still answers from the database.",
                         headers={"Retry-After": "5"})


def _event(data: str, name: str = "snapshot") -> str:
    return f"event: {name}\ndata: {data}\n\n"


def stream(session: Session, store: redis.Redis, settings: ReportSettings, *,
           heartbeat_s: float, max_s: float) -> Iterator[str]:
    """Server-Sent Events: the snapshot now, then each published change, with heartbeats.

    Subscribes before reading the first snapshot so no change falls between the two.
    The stream ends after `max_s`; EventSource reconnects by itself.
    """
    pubsub = store.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(CHANGES_CHANNEL)
        first = json.dumps(current_snapshot(session, store, settings))
    except redis.RedisError:
        pubsub.close()
        raise LiveFeedUnavailable() from None
    except BaseException:
        pubsub.close()
        raise

    def events() -> Iterator[str]:
        try:
            yield "retry: 3000\n\n" + _event(first)
            deadline, last = time.monotonic() + max_s, time.monotonic()
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=min(1.0, heartbeat_s))
                if message and message["type"] == "message":
                    yield _event(message["data"])
                    last = time.monotonic()
                elif time.monotonic() - last >= heartbeat_s:
                    yield ": heartbeat\n\n"
                    last = time.monotonic()
        except redis.RedisError:
            return  # Redis went away: end the stream; EventSource reconnects and gets 503
        finally:
            pubsub.close()
    return events()
