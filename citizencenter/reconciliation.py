"""Re-drive outbox work whose effect never happened.

The outbox marks a row published once the broker takes it; if the broker then loses the
message (a restart without persistence, say), nothing would ever run it. This beat job
asks each domain for what is still missing a grace period after it was due (cases never
routed or whose SLA timers never started, call events never applied, calls owed a case,
receipts and replies never sent, feedback never asked for) and enqueues it again through
the outbox. Every task it feeds is idempotent, so a re-drive of work that was only slow
is harmless. Work with an outbox row still unpublished, or published within the grace
period, is left to the relay and the workers.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.channels.email import service as email
from citizencenter.channels.phone import callers
from citizencenter.channels.phone import service as phone_service
from citizencenter.channels.social import replies as social_replies
from citizencenter.db import utcnow
from citizencenter.feedback import service as feedback_service
from citizencenter.routing import service as routing_service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    since: datetime  # look-back: older work is not looked for
    before: datetime  # the grace period: younger work may still be on its way


@dataclass(frozen=True)
class Effect:
    topic: str
    key: str  # the payload field naming one item
    find: Callable[[Session, Window, Mapping, int], list]
    settle: timedelta = timedelta()  # added to the grace, for tasks that retry for long


def _stalled_before(window: Window, backoff_s: int) -> datetime:
    return window.before - timedelta(seconds=backoff_s)


EFFECTS = (
    Effect("case.created", "case_id", lambda s, w, c, n: routing_service.unrouted_cases(
        s, w.since, w.before, n)),
    Effect("calls.events_received", "", lambda s, w, c, n: [True] if
           phone_service.unapplied_since_before(s, w.before) else []),
    Effect("calls.need_cases", "call_ids", lambda s, w, c, n: callers.calls_owed_a_case(
        s, w.since, w.before, c["PHONE_SHORT_ABANDON_S"], n)),
    Effect("email.acknowledge", "case_id", lambda s, w, c, n: email.owed_acknowledgements(
        s, w.since, w.before, _stalled_before(w, email.RETRY_BACKOFF_MAX_S), c, n)),
    Effect("email.send_reply", "message_id", lambda s, w, c, n: email.unsent_replies(
        s, w.since, w.before, _stalled_before(w, email.RETRY_BACKOFF_MAX_S), n)),
    Effect("social.reply_added", "message_id", lambda s, w, c, n: social_replies.unsent_replies(
        s, w.since, w.before, _stalled_before(w, social_replies.RETRY_BACKOFF_MAX_S), n)),
    Effect("case.resolved", "case_id", lambda s, w, c, n: feedback_service.owed_requests(
        s, w.since, w.before, c["FEEDBACK_SMS"] != "none", n), settle=timedelta(minutes=5)),
)


def _in_flight(payloads: list[dict], key: str) -> set:
    found: set = set()
    for payload in payloads:
        value = payload.get(key)
        found.update(value if isinstance(value, list) else [value])
    return {str(value) for value in found}


def reconcile(session: Session, config: Mapping, *, grace: timedelta, look_back: timedelta,
              batch: int = 500) -> dict[str, int]:
    """Enqueue again every effect still missing after the grace period; counts per topic."""
    now = utcnow()
    counts: dict[str, int] = {}
    for effect in EFFECTS:
        wait = grace + effect.settle
        window = Window(since=now - look_back, before=now - wait)
        stuck = effect.find(session, window, config, batch)
        if not stuck:
            continue
        busy = outbox.in_flight(session, [effect.topic], now - wait)[effect.topic]
        if not effect.key:  # the task takes whatever waits: one wake-up is enough
            todo = [] if busy else stuck[:1]
            payloads = [{"redriven": True}] if todo else []
        else:
            taken = _in_flight(busy, effect.key)
            todo = [item for item in stuck if str(item) not in taken]
            if effect.key == "call_ids":
                payloads = [{"call_ids": todo}] if todo else []
            else:
                payloads = [{effect.key: str(item) if effect.key == "case_id" else item}
                            for item in todo]
        for payload in payloads:
            outbox.enqueue(session, effect.topic, payload)
        if todo:
            counts[effect.topic] = len(todo)
    session.commit()
    if counts:  # counts only: ids and personal data stay out of the log
        log.warning("reconciliation re-drove %s", ", ".join(
            f"{topic}={n}" for topic, n in sorted(counts.items())))
    return counts
