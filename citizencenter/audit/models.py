from datetime import datetime

from sqlalchemy import JSON, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from citizencenter.db import Base, utcnow


class AuditEntryImmutable(RuntimeError):
    """The audit trail is append-only: no code path may change or remove an entry."""


class AuditEntry(Base):
    """Who did what to which record; never holds message bodies or personal data."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity_type", "entity_id"),
                      Index("ix_audit_entries_actor", "actor"))

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "user:3", "token:7", "system", "cli"
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper, _connection, entry: AuditEntry) -> None:
    raise AuditEntryImmutable(f"Audit entry {entry.id} cannot be changed or deleted.")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state) -> None:
    # Bulk UPDATE/DELETE statements skip the mapper events above.
    if (state.is_update or state.is_delete) \
            and getattr(state.statement.table, "name", None) == AuditEntry.__tablename__:
        raise AuditEntryImmutable("Audit entries cannot be changed or deleted.")
