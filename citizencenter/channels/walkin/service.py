"""Visits at a service point, registered by the guide who met the visitor.

A visit settled at the counter becomes a closed case at once, resolved when the visit
ended (visited_at + its duration, never later than now) and closed when registered, so
that it counts in the figures like any other contact. Other visits stay new for routing.

Visits are registered by the centre's guides at the service points. Department staff do
not register them: the case would belong to the centre, out of their sight, so they are
refused before anything is stored.
"""

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.errors import Forbidden, InvalidInput
from citizencenter.organisation.models import ServicePoint
from citizencenter.organisation.service import by_slug

CLOCK_SKEW = timedelta(minutes=2)  # a counter tablet's clock may run a little fast


def register_visit(session: Session, actor: Principal, *, service_point: str,
                   visited_at: datetime, subject: str, resolved_at_first_contact: bool,
                   description: str = "", category: str | None = None,
                   contact: dict | None = None, duration_minutes: int | None = None,
                   default_minutes: int = 10) -> Case:
    """Register a walk-in visit as a case of the service point."""
    if actor.is_department_staff:
        raise Forbidden("Visits at a service point are registered by the centre's guides, "
                        "not by department staff.")
    now = utcnow()
    if visited_at > now + CLOCK_SKEW:
        raise InvalidInput("visited_at", "Lies in the future.")
    visited_at = min(visited_at, now)
    point = by_slug(session, ServicePoint, service_point, "service_point", "service point")
    minutes = duration_minutes or default_minutes
    case = cases.add_case(
        session, actor, channel=Channel.WALK_IN, subject=subject, description=description,
        category=category, contact=contact, received_at=visited_at,
        channel_metadata={"service_point": point.slug, "duration_minutes": minutes},
        service_point_id=point.id, first_response_at=visited_at)
    if not resolved_at_first_contact:
        session.commit()
        return case
    case.resolved_at = min(visited_at + timedelta(minutes=minutes), now)
    session.flush()
    # Through the cases service, so the status change is audited and timed like any other.
    return cases.update_case(session, actor, case.id, case.version, {
        "status": CaseStatus.CLOSED, "resolved_at_first_contact": True})
