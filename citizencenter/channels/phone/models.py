"""Calls as the phone system reports them: the raw events and the state folded from them."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from citizencenter.db import Base, str_enum, utcnow


class CallEventType(StrEnum):
    QUEUED = "call.queued"
    OFFERED = "call.offered"
    RING_NO_ANSWER = "call.ring_no_answer"
    ANSWERED = "call.answered"
    ABANDONED = "call.abandoned"
    EXITED = "call.exited"
    TRANSFERRED = "call.transferred"
    ENDED = "call.ended"
    CALLBACK_REQUESTED = "callback.requested"
    IGNORED = "ignored"  # kept raw (e.g. an Asterisk event we do not use), never applied


class CallOutcome(StrEnum):
    WAITING = "waiting"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    EXITED = "exited"


class CallEvent(Base):
    """One event exactly as received; deduplicated on (source, event_id)."""

    __tablename__ = "call_events"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_call_events_call", "source", "call_id"),
        # The worker's backlog: events stored but not yet applied to their call.
        Index("ix_call_events_unapplied", "id", postgresql_where=text("applied_at IS NULL"),
              sqlite_where=text("applied_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[CallEventType] = mapped_column(str_enum(CallEventType, 32))
    occurred_at: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(default=0)
    call_id: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(100))
    caller: Mapped[str | None] = mapped_column(String(16))  # E.164; None when withheld
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    raw: Mapped[dict | str | None] = mapped_column(JSON)
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]


class Call(Base):
    """The state of one call, recomputed from all its events in (occurred_at, sequence) order."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("source", "call_id"),
        Index("ix_calls_local_date_queue", "local_date", "queue"),
        Index("ix_calls_caller_entered_at", "caller", "entered_at"),
        # Calls not (yet) linked to a case; reconciliation finds those owed one.
        Index("ix_calls_without_case", "updated_at",
              postgresql_where=text("case_id IS NULL AND callback_case_id IS NULL"),
              sqlite_where=text("case_id IS NULL AND callback_case_id IS NULL")),
        # The calls going on now, by guide: a guide's page pops the one they are on.
        Index("ix_calls_ongoing_agent_user", "agent_user_id", "answered_at",
              postgresql_where=text("finished_at IS NULL"),
              sqlite_where=text("finished_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(100))
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[CallOutcome] = mapped_column(str_enum(CallOutcome, 16),
                                                 default=CallOutcome.WAITING)
    exit_reason: Mapped[str | None] = mapped_column(String(16))  # timeout, empty, key, …
    entered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]  # abandoned, exited or ended
    wait_s: Mapped[float | None]
    ring_s: Mapped[float | None]
    talk_s: Mapped[float | None]
    hold_s: Mapped[float | None]
    acw_s: Mapped[float | None]
    transferred: Mapped[bool] = mapped_column(default=False)
    transfer_target: Mapped[str | None] = mapped_column(String(100))
    ring_no_answer_count: Mapped[int] = mapped_column(default=0)
    callback_requested: Mapped[bool] = mapped_column(default=False)
    # Reports group by the Stockholm calendar on every engine.
    local_date: Mapped[date | None] = mapped_column(Date)
    local_hour: Mapped[int | None] = mapped_column(SmallInteger)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    callback_case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    last_event_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PbxAgent(Base):
    """Maps the phone system's agent id (SIP/8007, PJSIP/anna) to a guide."""

    __tablename__ = "pbx_agents"

    agent_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
