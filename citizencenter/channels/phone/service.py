"""Call events in, call state and cases out.

Ingestion only stores the raw events (deduplicated) and hands their ids to a
worker. Applying recomputes each touched call from all of its events in
(occurred_at, sequence) order, so duplicates and any arrival order converge.
"""

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts.models import User
from citizencenter.channels.phone import callers
from citizencenter.channels.phone.models import (
    Call,
    CallEvent,
    CallEventType,
    CallOutcome,
    PbxAgent,
)
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import InvalidInput

STOCKHOLM = ZoneInfo("Europe/Stockholm")
T = CallEventType


def _insert(session: Session):
    return postgresql.insert if is_postgresql(session) else sqlite.insert


@dataclass
class IngestResult:
    accepted: int
    duplicates: int
    rejected: list
    replayed: bool = False


def ingest(session: Session, events: list[dict], *, integration_id: int | None = None,
           rejected: list | None = None, replayed: bool = False) -> IngestResult:
    """Store new events and queue them for applying; known event ids change nothing."""
    rejected = rejected or []
    if replayed or not events:
        session.commit()
        return IngestResult(0, len(events), rejected, replayed)
    rows = [{**event, "integration_id": integration_id, "received_at": utcnow()}
            for event in events]
    stmt = (_insert(session)(CallEvent).on_conflict_do_nothing(
        index_elements=["source", "event_id"]).returning(CallEvent.id))
    new_ids = list(session.scalars(stmt, rows))
    if new_ids:
        outbox.enqueue(session, "calls.events_received", {"event_ids": new_ids})
    session.commit()
    return IngestResult(len(new_ids), len(events) - len(new_ids), rejected)


def fold(call: Call, events: list[CallEvent]) -> None:
    """Set the call's state from all its events, oldest first."""
    for name in ("answered_at", "finished_at", "wait_s", "ring_s", "talk_s", "hold_s",
                 "acw_s", "exit_reason", "transfer_target", "agent", "caller", "queue"):
        setattr(call, name, None)
    call.outcome, call.transferred, call.callback_requested = CallOutcome.WAITING, False, False
    call.ring_no_answer_count = 0
    events = sorted((e for e in events if e.type != T.IGNORED),
                    key=lambda e: (e.occurred_at, e.sequence, e.id))
    if not events:
        return
    call.entered_at = events[0].occurred_at
    for event in events:
        m = event.metrics or {}
        call.queue = event.queue or call.queue
        call.caller = event.caller or call.caller
        if event.type == T.QUEUED:
            call.entered_at = min(call.entered_at, event.occurred_at)
        elif event.type == T.RING_NO_ANSWER:
            call.ring_no_answer_count += 1
        elif event.type == T.ANSWERED:
            call.outcome, call.answered_at = CallOutcome.ANSWERED, event.occurred_at
            call.agent = event.agent or call.agent
            call.wait_s = m.get("wait_s", call.wait_s)
            call.ring_s = m.get("ring_s", call.ring_s)
        elif event.type in (T.ABANDONED, T.EXITED) and call.answered_at is None:
            call.outcome = CallOutcome.ABANDONED if event.type == T.ABANDONED \
                else CallOutcome.EXITED
            call.exit_reason = m.get("reason") if event.type == T.EXITED else None
            call.finished_at = event.occurred_at
            call.wait_s = m.get("wait_s", call.wait_s)
        elif event.type in (T.TRANSFERRED, T.ENDED):
            if event.type == T.TRANSFERRED:
                call.transferred, call.transfer_target = True, m.get("target")
            call.finished_at = event.occurred_at
            call.agent = event.agent or call.agent
            for metric in ("wait_s", "talk_s", "hold_s", "acw_s"):
                if metric in m:
                    setattr(call, metric, m[metric])
        elif event.type == T.CALLBACK_REQUESTED:
            call.callback_requested = True
        call.last_event_at = event.occurred_at
    _derive_times(call)


def _derive_times(call: Call) -> None:
    """Fill what the phone system did not report from the event times."""
    if call.wait_s is None:
        end = call.answered_at or (call.finished_at if call.outcome in (
            CallOutcome.ABANDONED, CallOutcome.EXITED) else None)
        if end is not None:
            call.wait_s = max(0.0, (end - call.entered_at).total_seconds())
    if call.answered_at is None and call.outcome == CallOutcome.ANSWERED:
        call.answered_at = call.entered_at + timedelta(seconds=call.wait_s or 0)
    if call.talk_s is None and call.answered_at and call.finished_at:
        call.talk_s = max(0.0, (call.finished_at - call.answered_at).total_seconds())
    # The ACD's entry time is the call's time of day in every report.
    local = call.entered_at.astimezone(STOCKHOLM)
    call.local_date, call.local_hour = local.date(), local.hour


def apply_events(session: Session, event_ids: list[int], short_abandon_s: float = 5,
                 callback_target: timedelta = timedelta(hours=2)) -> int:
    """Recompute the calls these events belong to; safe to run again."""
    keys = session.execute(select(CallEvent.source, CallEvent.call_id)
                           .where(CallEvent.id.in_(event_ids)).distinct()).all()
    if not keys:
        session.rollback()
        return 0
    session.execute(_insert(session)(Call).on_conflict_do_nothing(
        index_elements=["source", "call_id"]),
        [{"source": s, "call_id": c, "outcome": CallOutcome.WAITING} for s, c in keys])
    calls = {}
    for source, call_ids in _group(keys).items():
        query = (select(Call).where(Call.source == source, Call.call_id.in_(call_ids))
                 .order_by(Call.id))
        if is_postgresql(session):
            query = query.with_for_update()  # two batches of one call take turns
        calls.update({(c.source, c.call_id): c for c in session.scalars(query)})
    events: dict[tuple, list[CallEvent]] = {}
    for source, call_ids in _group(keys).items():
        for event in session.scalars(select(CallEvent).where(
                CallEvent.source == source, CallEvent.call_id.in_(call_ids))):
            events.setdefault((event.source, event.call_id), []).append(event)
    agents = dict(session.execute(select(PbxAgent.agent_id, PbxAgent.user_id)).all())
    for key, call in calls.items():
        fold(call, events.get(key, []))
        call.agent_user_id = agents.get(call.agent)
        callers.link_cases(session, call, short_abandon_s, callback_target)
    if any(call.agent_user_id for call in calls.values()):  # routing follows guides' calls
        session.flush()
        outbox.enqueue(session, "calls.applied", {"call_ids": sorted(
            call.id for call in calls.values() if call.agent_user_id)})
    session.execute(update(CallEvent).where(CallEvent.id.in_(event_ids))
                    .values(applied_at=utcnow()))
    session.commit()
    return len(calls)


def _group(keys) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source, call_id in keys:
        grouped.setdefault(source, []).append(call_id)
    return grouped


def map_agent(session: Session, agent_id: str, user_email: str) -> PbxAgent:
    """Tell which guide a phone-system agent id (SIP/8007, PJSIP/anna) belongs to."""
    user = session.scalar(select(User).where(User.email == user_email.strip().lower()))
    if user is None:
        raise InvalidInput("user", "No user with this e-mail.")
    mapping = session.get(PbxAgent, agent_id) or PbxAgent(agent_id=agent_id)
    mapping.user_id = user.id
    session.add(mapping)
    session.commit()
    return mapping
