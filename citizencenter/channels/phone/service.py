"""Call events in, call state and cases out.

Ingestion only stores the raw events (deduplicated) and hands their ids to a
worker. Applying recomputes each touched call from all of its events in
(occurred_at, sequence) order, so duplicates and any arrival order converge.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

import marshmallow as ma
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from citizencenter import json_input, keys, outbox
from citizencenter.accounts.models import User
from citizencenter.accounts.service import Principal
from citizencenter.channels.phone import asterisk, callers, twilio
from citizencenter.channels.phone.models import (
    Call,
    CallEvent,
    CallEventType,
    CallOutcome,
    PbxAgent,
)
from citizencenter.channels.phone.schemas import load_events
from citizencenter.config import local_zone
from citizencenter.db import insert_if_absent, is_postgresql, utcnow
from citizencenter.errors import (
    AppError,
    InvalidInput,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from citizencenter.integrations import service as integrations
from citizencenter.privacy import service as privacy

T = CallEventType


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
    new_ids = _store(session, [_without_numbers(event) for event in events], integration_id)
    if new_ids:  # wakes a worker, which takes whatever is waiting (apply_pending)
        outbox.enqueue(session, "calls.events_received", {"accepted": len(new_ids)})
    session.commit()
    return IngestResult(len(new_ids), len(events) - len(new_ids), rejected)


def _without_numbers(event: dict) -> dict:
    """The event with any personnummer in its raw payload or metrics masked.

    A caller may key one in at the IVR (Twilio's Digits, a queue_log data field). A call
    event is no case's text, so the number is not kept sealed either: it is dropped.
    """
    masked = {name: privacy.mask_json(event[name]) for name in ("raw", "metrics")
              if event.get(name) is not None and privacy.json_holds_number(event[name])}
    return {**event, **masked} if masked else event


class InvalidBody(AppError):
    status, title, slug = 400, "Invalid body", "invalid-body"


@dataclass(frozen=True)
class SignedDelivery:
    """A signed integration request as it came in: the raw body and its signature headers."""

    mimetype: str
    body: bytes
    webhook_id: str | None
    timestamp: str | None
    signature: str | None


def _accept(session: Session, principal: Principal, secret_keys: keys.SecretKeys,
            delivery: SignedDelivery, mimetype: str) -> integrations.Delivery:
    """Check the media type and the signature before anything in the body is parsed."""
    if delivery.mimetype != mimetype:
        raise UnsupportedMediaType(f"Send the body as {mimetype}.")
    return integrations.accept_delivery(session, principal, secret_keys, delivery.webhook_id,
                                        delivery.timestamp, delivery.signature, delivery.body)


def receive_events(session: Session, principal: Principal, secret_keys: keys.SecretKeys,
                   delivery: SignedDelivery) -> IngestResult:
    """Check a signed delivery of one normalised call event or a batch, then ingest it."""
    accepted = _accept(session, principal, secret_keys, delivery, "application/json")
    try:
        payload = json_input.loads(delivery.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidBody("The body is not valid JSON.") from None
    try:
        events = load_events(payload)
    except ma.ValidationError as exc:
        raise ValidationFailed(exc.messages) from None
    integrations.note_event_type(accepted, events[-1].get("type"))
    return ingest(session, events, integration_id=accepted.integration.id,
                  replayed=accepted.replayed)


def receive_queue_log(session: Session, principal: Principal, secret_keys: keys.SecretKeys,
                      delivery: SignedDelivery) -> IngestResult:
    """Check a signed delivery of Asterisk queue_log lines, then ingest their events."""
    accepted = _accept(session, principal, secret_keys, delivery, "text/plain")
    try:
        lines = delivery.body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidBody("The body is not UTF-8 text.") from None
    events, rejected = asterisk.parse_lines(lines)
    if rejected and not events:
        raise ValidationFailed({str(r["line"]): [r["reason"]] for r in rejected}, "body")
    if events:
        integrations.note_event_type(accepted, events[-1].get("type"))
    return ingest(session, events, integration_id=accepted.integration.id, rejected=rejected,
                  replayed=accepted.replayed)


def receive_twilio(session: Session, auth_token: str, url: str, mimetype: str,
                   form: list[tuple[str, str]], signature: str | None,
                   queue: str | None) -> IngestResult:
    """Check a Twilio status or Enqueue callback's signature, then ingest its call event."""
    if not auth_token:
        raise NotFound("Twilio is not configured.")
    if mimetype != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Twilio posts application/x-www-form-urlencoded.")
    twilio.verify(auth_token, url, form, signature)  # over every parameter, repeats included
    fields: dict[str, str] = {}
    for name, value in form:  # a repeated parameter counts with its first value
        fields.setdefault(name, value)
    try:
        event = twilio.to_event(fields, queue)
    except ValueError as exc:
        raise ValidationFailed({"_schema": [str(exc)]}, "form") from None
    return ingest(session, [event] if event else [])


# One short statement with one parameter, however long the batch: PostgreSQL reads the
# rows from JSON, and the driver never has to take apart thousands of placeholders.
_PG_STORE = text("""
    INSERT INTO call_events (source, event_id, type, occurred_at, sequence, call_id, queue,
                             agent, caller, metrics, raw, integration_id, received_at)
    SELECT source, event_id, type, occurred_at, sequence, call_id, queue, agent, caller,
           coalesce(metrics, '{}'), raw, CAST(:integration_id AS integer), :received_at
    FROM json_to_recordset(CAST(:events AS json)) AS e(
        source text, event_id text, type text, occurred_at timestamptz, sequence integer,
        call_id text, queue text, agent text, caller text, metrics json, raw json)
    ON CONFLICT (source, event_id) DO NOTHING
    RETURNING id""")


def _store(session: Session, events: list[dict], integration_id: int | None) -> list[int]:
    """Insert the events not stored before; return the new rows' ids."""
    received_at = utcnow()
    if is_postgresql(session):
        return list(session.scalars(_PG_STORE, {
            "events": json.dumps(events, default=_iso), "integration_id": integration_id,
            "received_at": received_at}))
    table = CallEvent.__table__
    rows = [{**event, "integration_id": integration_id, "received_at": received_at}
            for event in events]
    return list(session.scalars(insert_if_absent(session, table, "source", "event_id")
                                .returning(table.c.id), rows))


def _iso(value: datetime) -> str:
    return value.isoformat()


# What fold() sets on a call.
FOLDED = ("outcome", "entered_at", "answered_at", "finished_at", "wait_s", "ring_s", "talk_s",
          "hold_s", "acw_s", "exit_reason", "transfer_target", "agent", "caller", "queue",
          "transferred", "callback_requested", "ring_no_answer_count", "last_event_at",
          "local_date", "local_hour")


def fold(call: Call | SimpleNamespace, events: list) -> None:
    """Set the call's state (the FOLDED fields) from all its events, oldest first."""
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
    local = call.entered_at.astimezone(local_zone())
    call.local_date, call.local_hour = local.date(), local.hour


def apply_pending(session: Session, batch: int = 500, short_abandon_s: float = 5) -> int:
    """Apply stored events until none wait; return how many were applied.

    Events are taken oldest first in batches, however they arrived, so many small
    deliveries are applied as few large batches. On PostgreSQL several workers drain
    at once, each skipping the events another has taken.
    """
    applied = 0
    while True:
        query = (select(CallEvent.id).where(CallEvent.applied_at.is_(None))
                 .order_by(CallEvent.id).limit(batch))
        if is_postgresql(session):
            query = query.with_for_update(skip_locked=True)
        event_ids = list(session.scalars(query))
        if not event_ids:
            session.rollback()
            return applied
        apply_events(session, event_ids, short_abandon_s)
        applied += len(event_ids)


def unapplied_since_before(session: Session, before: datetime) -> bool:
    """Whether an event received before the given time still waits to be applied."""
    return session.scalar(select(CallEvent.id).where(
        CallEvent.applied_at.is_(None), CallEvent.received_at < before).limit(1)) is not None


def apply_events(session: Session, event_ids: list[int], short_abandon_s: float = 5) -> int:
    """Recompute the calls these events belong to; safe to run again.

    Only call state is written here, in one transaction per batch. Calls that now need
    a case (answered, missed, callback requested) are handed to `callers.link_calls`
    through the outbox, so the telephony figures never wait for case intake.
    """
    # Sorted: concurrent batches insert and lock the calls they share in the same order.
    keys = sorted(session.execute(select(CallEvent.source, CallEvent.call_id)
                                  .where(CallEvent.id.in_(event_ids)).distinct()).all())
    if not keys:
        session.rollback()
        return 0
    session.execute(insert_if_absent(session, Call, "source", "call_id"),
        [{"source": s, "call_id": c, "outcome": CallOutcome.WAITING} for s, c in keys])
    calls, events = {}, {}
    for source, call_ids in _group(keys).items():
        query = (select(Call.id, Call.source, Call.call_id, Call.case_id,
                        Call.callback_case_id, *(getattr(Call, name) for name in FOLDED))
                 .where(Call.source == source, Call.call_id.in_(call_ids)).order_by(Call.id))
        if is_postgresql(session):
            query = query.with_for_update()  # two batches of one call take turns
        # Plain rows and namespaces, not entities: one UPDATE writes the whole batch.
        calls.update({(row.source, row.call_id): SimpleNamespace(**row._asdict())
                      for row in session.execute(query)})
        for event in session.execute(select(*_EVENT_COLUMNS).where(
                CallEvent.source == source, CallEvent.call_id.in_(call_ids))):
            events.setdefault((event.source, event.call_id), []).append(event)
    agents = dict(session.execute(select(PbxAgent.agent_id, PbxAgent.user_id)).all())
    now = utcnow()
    answered_now = []
    for key, call in calls.items():
        answered_before = call.answered_at is not None
        fold(call, events.get(key, []))
        call.agent_user_id = agents.get(call.agent)
        if call.agent_user_id and call.answered_at and call.finished_at is None \
                and not answered_before:
            answered_now.append(call.id)
    session.execute(update(Call), [
        {"id": call.id, "agent_user_id": call.agent_user_id, "updated_at": now,
         **{name: getattr(call, name) for name in FOLDED}} for call in calls.values()])
    to_link = sorted(c.id for c in calls.values() if callers.needs_case(c, short_abandon_s))
    if to_link:
        outbox.enqueue(session, "calls.need_cases", {"call_ids": to_link})
    on_agents = sorted(c.id for c in calls.values() if c.agent_user_id)
    if on_agents:  # routing follows guides' calls
        outbox.enqueue(session, "calls.applied", {"call_ids": on_agents})
    if answered_now:  # the guide's workspace shows who is calling (ids only)
        outbox.enqueue(session, "calls.answered", {"call_ids": sorted(answered_now)})
    session.execute(update(CallEvent).where(CallEvent.id.in_(event_ids)).values(applied_at=now))
    session.commit()
    return len(calls)


_EVENT_COLUMNS = (CallEvent.id, CallEvent.source, CallEvent.call_id, CallEvent.type,
                  CallEvent.occurred_at, CallEvent.sequence, CallEvent.queue, CallEvent.agent,
                  CallEvent.caller, CallEvent.metrics)


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
