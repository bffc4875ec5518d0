"""Who can take which case, the rules that place cases, and a record of every decision."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.accounts.models import Department
from citizencenter.db import Base, str_enum, utcnow


class Presence(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


class GuideProfile(Base):
    """A service guide as routing sees them: skills, capacity per channel and presence."""

    __tablename__ = "guide_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True,
                                         autoincrement=False)
    presence: Mapped[Presence] = mapped_column(str_enum(Presence, 16), default=Presence.OFFLINE)
    presence_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "call" when the phone system made the guide busy, so that the call's end frees them.
    presence_source: Mapped[str] = mapped_column(String(16), default="manual")
    # Longest idle first: set on becoming available and on every assignment.
    idle_since: Mapped[datetime] = mapped_column(default=utcnow)
    last_assignment_at: Mapped[datetime | None]
    # Tags such as "category:bygglov", "language:sv", "channel:email".
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacities: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Queues served; empty means every queue of the centre (not the departments').
    queue_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoutingRule(Base):
    """An ordered rule; its content lives in versions, the newest being current."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    # No foreign key: versions point at their rule, and a cycle would not migrate on SQLite.
    current_version_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    current: Mapped["RoutingRuleVersion | None"] = relationship(
        primaryjoin="foreign(RoutingRule.current_version_id) == RoutingRuleVersion.id",
        lazy="joined", viewonly=True)


class RoutingRuleVersion(Base):
    """One edit of a rule, kept for ever: a case names the version that routed it."""

    __tablename__ = "routing_rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("routing_rules.id"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    actions: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class QueuePolicy(Base):
    """How long a case may wait in a queue, and where it goes after that."""

    __tablename__ = "queue_policies"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True,
                                          autoincrement=False)
    timeout_s: Mapped[int | None]
    overflow_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    raise_priority: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoutingDecision(Base):
    """Why a case went where it went: rule, candidates considered, chosen guide, reason."""

    __tablename__ = "routing_decisions"
    __table_args__ = (Index("ix_routing_decisions_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # routed, assigned, waiting, escalated, …
    reason: Mapped[str] = mapped_column(String(64))
    rule_version_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule_versions.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    chosen_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    candidates: Mapped[list[dict]] = mapped_column(JSON, default=list)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), default="system")


class CaseForwarding(Base):
    """A case handed to a department: the department's own clock and its notifications."""

    __tablename__ = "case_forwardings"
    __table_args__ = (Index("ix_case_forwardings_case_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    from_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    note_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    forwarded_by: Mapped[str] = mapped_column(String(64))
    forwarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The due time of the department-resolution SLA clock; None when no policy applies.
    department_due_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    returned_by: Mapped[str | None] = mapped_column(String(64))
    email_sent_at: Mapped[datetime | None]
    webhook_delivered_at: Mapped[datetime | None]
    notify_attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    department: Mapped[Department] = relationship(lazy="joined")
