import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.accounts.models import Department, User
from citizencenter.cases.enums import (
    TRANSITIONS,
    CaseKind,
    CaseStatus,
    Channel,
    Direction,
    Priority,
)
from citizencenter.contacts.models import Contact
from citizencenter.db import Base, str_enum, utcnow
from citizencenter.organisation.models import Category, Queue, ServicePoint

# What a confidential case's subject reads as to those who may not see its content.
CONFIDENTIAL_SUBJECT = "Sekretessmarkerat ärende"


class Case(Base):
    """An ärende: one matter a citizen raised, across all its messages and calls."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_received_at_id", "received_at", "id"),
        Index("ix_cases_status_queue", "status", "queue_id"),
        # The case list: a queue's cases of a status, newest first, and `q` on the subject
        # (trigram GIN on PostgreSQL, where ILIKE '%…%' can use it; plain on SQLite).
        Index("ix_cases_queue_status_received", "queue_id", "status", "received_at", "id"),
        Index("ix_cases_subject_trgm", "subject", postgresql_using="gin",
              postgresql_ops={"subject": "gin_trgm_ops"}),
        # Reconciliation looks for cases routing never saw and resolved cases owed feedback.
        Index("ix_cases_unrouted", "received_at", postgresql_where=text("routed_at IS NULL"),
              sqlite_where=text("routed_at IS NULL")),
        Index("ix_cases_sla_unstarted", "received_at",
              postgresql_where=text("sla_started_at IS NULL"),
              sqlite_where=text("sla_started_at IS NULL")),
        Index("ix_cases_resolved_at", "resolved_at",
              postgresql_where=text("status = 'resolved'"),
              sqlite_where=text("status = 'resolved'")),
        # The workspace header's count of cases waiting in a guide's queues: an index-only
        # count of the waiting ones alone, not a walk over every case of those queues. The
        # contact too: the count leaves out protected contacts' cases (cases.visible_cases);
        # and the marking: a guide's leaves out confidential ones (confidentiality.takeable).
        Index("ix_cases_waiting_queue", "queue_id", "status", "contact_id", "confidential_at",
              postgresql_where=text("assignee_id IS NULL AND waiting_since IS NOT NULL"),
              sqlite_where=text("assignee_id IS NULL AND waiting_since IS NOT NULL")),
        # What a guide holds: their open phone cases as routing/decide counts them, their
        # load per channel, Mina ärenden. A guide's case history grows for years; these reads
        # must only touch the cases of the statuses they ask for.
        Index("ix_cases_assignee_status_channel", "assignee_id", "status", "channel"),
        # `?diarienummer=`: the few cases registered in the records system, looked up exactly.
        Index("ix_cases_diarienummer", "diarienummer",
              postgresql_where=text("diarienummer IS NOT NULL"),
              sqlite_where=text("diarienummer IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # The registration number in the municipality's records system (allmän handling), when
    # the case was registered there. Not unique: one diarienummer may cover several cases.
    diarienummer: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 20))
    kind: Mapped[CaseKind] = mapped_column(str_enum(CaseKind, 16), default=CaseKind.INQUIRY)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, 24), default=CaseStatus.NEW)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, 10), default=Priority.NORMAL)
    subject: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_at: Mapped[datetime | None]
    # Set once, by whoever starts the case's SLA timers (the worker, after intake).
    sla_started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]  # the citizen-facing target, e.g. a callback's
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    resolved_at_first_contact: Mapped[bool] = mapped_column(default=False)
    # The earlier case this one continues, e.g. a reply to a case closed long ago.
    linked_case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"))
    # Where a walk-in visit happened; reports group visits by it.
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"),
                                                         index=True)
    # Routing: what a guide needs to take the case, the rule version that placed it, and
    # its place in the queue (waiting_since) and next escalation (escalate_at) while waiting.
    language: Mapped[str | None] = mapped_column(String(8))
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    routing_rule_version_id: Mapped[int | None]
    waiting_since: Mapped[datetime | None] = mapped_column(index=True)
    escalate_at: Mapped[datetime | None] = mapped_column(index=True)
    # Confidential (sekretess) since confidential_at, under the OSL provision in
    # confidential_reason, marked by confidential_by (an actor); see cases.confidentiality.
    confidential_reason: Mapped[str | None] = mapped_column(String(300))
    confidential_at: Mapped[datetime | None]
    confidential_by: Mapped[str | None] = mapped_column(String(64))
    # Where the matter is, when the citizen said (an Open311 report): WGS84 degrees and an
    # address as given or known for the position.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    category: Mapped[Category | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    queue: Mapped[Queue | None] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(lazy="joined")
    service_point: Mapped[ServicePoint | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def can_transition_to(self, status: CaseStatus) -> bool:
        return status in TRANSITIONS[self.status]

    # Not a column: set by cases.confidentiality.grant for the caller a case is shown to.
    # Unset, a confidential case's content counts as hidden.
    content_allowed = False

    @property
    def content_hidden(self) -> bool:
        return self.confidential_at is not None and not self.content_allowed

    @property
    def shown_subject(self) -> str:
        return CONFIDENTIAL_SUBJECT if self.content_hidden else self.subject


class Message(Base):
    """One entry in a case's conversation: from the citizen, to the citizen, or a note."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_case_id_created_at", "case_id", "created_at", "id"),
        # Replies a worker sends; reconciliation finds the ones never sent.
        Index("ix_messages_outbound_created_at", "created_at",
              postgresql_where=text("direction = 'outbound'"),
              sqlite_where=text("direction = 'outbound'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 10))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    # Channel specifics: e-mail headers, attachment descriptors, call ids, Meta mids.
    channel_metadata: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    case: Mapped[Case] = relationship()


class ReferenceCounter(Base):
    """Last MC-YYYY-NNNNNN number handed out per year."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class CaseDocument(Base):
    """What full-text search reads of a case: its subject, conversation and notes, folded
    (lower case, no diacritics). Kept in step with the case by `cases.search`; PostgreSQL
    adds a stored `swedish` tsvector of it (see the migration), SQLite an FTS5 row."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               unique=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    messages: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
