"""Reading the audit trail in the tests."""

from sqlalchemy import select

from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry


def entries(session, **where) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == str(value))
    return list(session.scalars(query))


def actor_of(session, email: str) -> str:
    return f"user:{session.scalar(select(User.id).where(User.email == email))}"


GUIDE = "anna.lindqvist@lund.example"
SUPERVISOR = "maria.svensson@lund.example"
