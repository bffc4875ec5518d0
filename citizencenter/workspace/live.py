"""The workspace's live feed over Redis pub/sub: screen pops for one guide, and changes in
the number of waiting cases for everybody.

Messages carry ids and counts only, never a phone number: the page asks the service
(`service.screen_pop`, `service.waiting_count`) for what it shows, with the reader's
access rules and an audited read.
"""

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.db import utcnow
from citizencenter.errors import AppError
from citizencenter.routing import assignment
from citizencenter.workspace.service import DEPARTMENT_ACTIVE

WAITING_KEY = "citizencenter:workspace:waiting"
WAITING_CHANNEL = "citizencenter:workspace:waiting:changes"
WAITING_TTL_S = 60
# A call answered longer ago whose end never came is not popped again (a lost hang-up).
CURRENT_CALL_MAX_AGE = timedelta(hours=2)


def user_channel(user_id: int) -> str:
    """The channel of one user's screen pops."""
    return f"citizencenter:workspace:user:{int(user_id)}"


def publish_screen_pops(session: Session, store: redis.Redis, call_ids: list[int]) -> int:
    """Tell each guide whose agent is on one of these answered calls; return how many."""
    calls = session.execute(
        select(Call.id, Call.agent_user_id).where(
            Call.id.in_(call_ids), Call.agent_user_id.is_not(None),
            Call.outcome == CallOutcome.ANSWERED, Call.finished_at.is_(None))
        .order_by(Call.id)).all()
    session.rollback()  # read only
    for call_id, user_id in calls:
        store.publish(user_channel(user_id), json.dumps({"call_id": call_id}))
    return len(calls)


def current_call(session: Session, user_id: int) -> int | None:
    """The answered call this user's agent is on now, if any: a stream starts with it, so
    a pop published while a page loaded or the stream reconnected is not lost."""
    return session.scalar(
        select(Call.id).where(Call.agent_user_id == user_id,
                              Call.outcome == CallOutcome.ANSWERED, Call.finished_at.is_(None),
                              Call.answered_at >= utcnow() - CURRENT_CALL_MAX_AGE)
        .order_by(Call.answered_at.desc(), Call.id.desc()).limit(1))


def waiting_counts(session: Session) -> dict:
    """Waiting cases per centre queue, and unassigned open cases per department."""
    queues = session.execute(
        select(Case.queue_id, func.count()).where(
            Case.assignee_id.is_(None), Case.waiting_since.is_not(None),
            Case.status.in_(assignment.WAITING), Case.queue_id.is_not(None))
        .group_by(Case.queue_id)).all()
    departments = session.execute(
        select(Case.department_id, func.count()).where(
            Case.assignee_id.is_(None), Case.department_id.is_not(None),
            Case.status.in_(DEPARTMENT_ACTIVE))
        .group_by(Case.department_id)).all()
    return {"queues": {str(k): n for k, n in sorted(queues)},
            "departments": {str(k): n for k, n in sorted(departments)}}


def publish_waiting(session: Session, store: redis.Redis) -> bool:
    """Count the waiting cases, keep the counts, and publish them when they changed."""
    counts = waiting_counts(session)
    session.rollback()  # read only
    data = json.dumps(counts, sort_keys=True)
    previous = store.get(WAITING_KEY)
    store.set(WAITING_KEY, data, ex=WAITING_TTL_S)
    if previous == data:
        return False
    store.publish(WAITING_CHANNEL, data)
    return True


class WorkspaceFeedUnavailable(AppError):
    status, title, slug = 503, "Live feed unavailable", "live-feed-unavailable"

    def __init__(self):
        super().__init__("The workspace's live feed needs Redis, which is not reachable now; "
                         "the pages still work without it.", headers={"Retry-After": "5"})


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"


def workspace_events(store: redis.Redis, user_id: int, heartbeat_s: float, *,
                     max_s: float = 300,
                     on_call: Callable[[], int | None] = lambda: None) -> Iterator[str]:
    """Server-Sent Events for one user: `screen_pop` ({"call_id"}) and `waiting` (the
    counts, first the ones kept now), with heartbeats; the stream ends after `max_s`.
    `on_call()`: the call the user is on now (`current_call`), popped first.

    Subscribes before reading the kept counts and the current call, so no change falls
    between the two (a pop published meanwhile comes twice; the page shows it once).
    """
    pubsub = store.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(user_channel(user_id), WAITING_CHANNEL)
        first = store.get(WAITING_KEY)
        call_id = on_call()
    except redis.RedisError:
        pubsub.close()
        raise WorkspaceFeedUnavailable() from None
    except BaseException:
        pubsub.close()
        raise
    names = {user_channel(user_id): "screen_pop", WAITING_CHANNEL: "waiting"}

    def events() -> Iterator[str]:
        try:
            yield "retry: 3000\n\n" + (_event("waiting", _text(first)) if first else "") \
                + (_event("screen_pop", json.dumps({"call_id": call_id})) if call_id else "")
            deadline, last = time.monotonic() + max_s, time.monotonic()
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=min(1.0, heartbeat_s))
                if message and message["type"] == "message":
                    yield _event(names[_text(message["channel"])], _text(message["data"]))
                    last = time.monotonic()
                elif time.monotonic() - last >= heartbeat_s:
                    yield ": heartbeat\n\n"
                    last = time.monotonic()
        except redis.RedisError:
            return  # Redis went away: end; EventSource reconnects and gets 503 meanwhile
        finally:
            pubsub.close()
    return events()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
