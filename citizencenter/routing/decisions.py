"""The record of every routing decision, readable on the case it concerns."""

import uuid

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases_service
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.pagination import Paginator
from citizencenter.routing.models import RoutingDecision


def record(session: Session, case: Case | None, kind: str, reason: str, *,
           chosen_user_id: int | None = None, candidates: list[dict] | None = None,
           actor: str = "system", into: list[dict] | None = None,
           **details) -> RoutingDecision | None:
    """Add a decision to the caller's transaction; `details` must hold no personal data.

    With `into`, the decision's row is appended there instead, for `write` to insert
    with the rest of a batch's.
    """
    row = {"case_id": case.id if case else None, "kind": kind, "reason": reason,
           "rule_version_id": case.routing_rule_version_id if case else None,
           "queue_id": case.queue_id if case else None,
           "department_id": case.department_id if case else None,
           "chosen_user_id": chosen_user_id, "candidates": candidates or [],
           "details": details, "actor": actor}
    if into is not None:
        into.append({**row, "decided_at": utcnow()})
        return None
    decision = RoutingDecision(**row)
    session.add(decision)
    return decision


def write(session: Session, rows: list[dict]) -> None:
    """Insert the decisions `record` gathered, in their order, with one executemany."""
    if rows:
        session.execute(insert(RoutingDecision.__table__), rows)
        rows.clear()


def for_case(session: Session, actor: Principal, case_id: uuid.UUID, paginator: Paginator,
             limit: int | None = None, cursor: str | None = None) -> tuple:
    """A case's routing history, oldest first (404 for cases the caller may not see).

    The read is audited like any view of the case.
    """
    case = cases_service.shown_case(session, actor, case_id, "routing")
    query = select(RoutingDecision).where(RoutingDecision.case_id == case.id)
    page = paginator.page(session, query, (RoutingDecision.id,), to_key=lambda d: [d.id],
                          from_key=lambda k: (int(k[0]),),
                          filters={"routing-of": str(case.id)}, limit=limit, cursor=cursor,
                          descending=False)
    session.commit()
    return page
