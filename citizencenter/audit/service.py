from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.audit.models import AuditEntry


def record(session: Session, actor: str, action: str, entity_type: str, entity_id,
           **data) -> None:
    """Add an audit entry to the caller's transaction. Keep personal data out of `data`."""
    session.add(AuditEntry(actor=actor, action=action, entity_type=entity_type,
                           entity_id=str(entity_id), data=data))


def entries_for(session: Session, entity_type: str, entity_id) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)
    ))
