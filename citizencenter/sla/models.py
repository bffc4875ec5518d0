"""SLA policies, per-case timers and their ledger (the calendars are in sla/calendars)."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.accounts.models import Department
from citizencenter.cases.enums import Channel, Priority
from citizencenter.db import Base, append_only, str_enum, utcnow
from citizencenter.organisation.models import Category
from citizencenter.sla.calendars.models import SlaCalendar, SlaCalendarVersion
from citizencenter.sla.enums import LedgerEvent, Metric, NotificationKind, TargetUnit, TimerStatus


class SlaPolicy(Base):
    """A target for one metric, for cases of a channel (and priority, category, department)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, 24))
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel, 20))  # None: every one
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, 10))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    target_value: Mapped[int]
    target_unit: Mapped[TargetUnit] = mapped_column(str_enum(TargetUnit, 16))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendars.id"))  # None: 24/7
    pause_statuses: Mapped[list] = mapped_column(JSON, default=list)
    warn_at_percent: Mapped[int] = mapped_column(default=80)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    calendar: Mapped[SlaCalendar | None] = relationship(lazy="joined")


class SlaTimer(Base):
    """One clock of one case against one policy, with what it used to compute its due time."""

    __tablename__ = "sla_timers"
    __table_args__ = (Index("ix_sla_timers_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, 24))
    calendar_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_calendar_versions.id"))  # None: 24/7
    # The policy's target as it was when the timer started.
    target_value: Mapped[int]
    target_unit: Mapped[TargetUnit] = mapped_column(str_enum(TargetUnit, 16))
    target_s: Mapped[int]  # open time the target allows, in seconds
    warn_at_percent: Mapped[int]
    pause_statuses: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[TimerStatus] = mapped_column(str_enum(TimerStatus, 16),
                                                default=TimerStatus.RUNNING)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warn_at: Mapped[datetime]
    paused_s: Mapped[int] = mapped_column(default=0)  # open time spent paused, seconds
    paused_since: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    policy: Mapped[SlaPolicy] = relationship()
    calendar_version: Mapped[SlaCalendarVersion | None] = relationship()


@append_only
class SlaLedgerEntry(Base):
    """Append-only: every start, pause, resume, warning, breach and fulfilment of a timer."""

    __tablename__ = "sla_ledger"
    __table_args__ = (Index("ix_sla_ledger_case_id_id", "case_id", "id"),
                      # Today's warnings and breaches (the wallboard, /metrics).
                      Index("ix_sla_ledger_event_occurred_at", "event", "occurred_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: deleting a case or a timer must not silently take its ledger with it.
    timer_id: Mapped[int] = mapped_column(ForeignKey("sla_timers.id", ondelete="RESTRICT"),
                                          index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    event: Mapped[LedgerEvent] = mapped_column(str_enum(LedgerEvent, 16))
    occurred_at: Mapped[datetime]  # when it happened on the clock
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]  # the timer's due time after this event
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    timer: Mapped[SlaTimer] = relationship()


class SlaNotification(Base):
    """A warning or breach to tell supervisors about; sent by a worker, at most once each."""

    __tablename__ = "sla_notifications"
    __table_args__ = (UniqueConstraint("timer_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    timer_id: Mapped[int] = mapped_column(ForeignKey("sla_timers.id", ondelete="CASCADE"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, 16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)
