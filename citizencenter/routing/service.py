"""Deciding where a case goes."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from citizencenter.audit import service as audit
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.organisation.models import ChannelDefaultQueue


def route_case(session: Session, case_id: uuid.UUID) -> bool:
    """Put a new case in its channel's default queue; a second run changes nothing."""
    # Columns only: FOR UPDATE cannot lock the outer side of the eager joins.
    query = select(Case).options(lazyload("*")).where(Case.id == case_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    case = session.scalar(query)
    if case is None or case.routed_at is not None:
        session.rollback()
        return False
    default = session.get(ChannelDefaultQueue, case.channel)
    if default is not None and case.queue_id is None:
        case.queue_id = default.queue_id
    case.routed_at = utcnow()
    audit.record(session, "system", "case.routed", "case", case.id, queue_id=case.queue_id)
    session.commit()
    return True
