"""Reading a case's timers and ledger, with the case's own visibility rules."""

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.cases import confidentiality
from citizencenter.cases import service as cases_service
from citizencenter.cases.service import visible_cases
from citizencenter.organisation.models import Queue
from citizencenter.sla.enums import OPEN_STATUSES
from citizencenter.sla.models import SlaLedgerEntry, SlaTimer


def case_sla(session: Session, actor: Principal, case_id: uuid.UUID) -> dict:
    """The timers of a case and the ledger explaining them (404 for cases not visible).

    The read is audited like any view of the case.
    """
    case = cases_service.shown_case(session, actor, case_id, "sla")
    timers = session.scalars(select(SlaTimer).where(SlaTimer.case_id == case.id)
                             .order_by(SlaTimer.id)).all()
    ledger = session.scalars(select(SlaLedgerEntry).where(SlaLedgerEntry.case_id == case.id)
                             .order_by(SlaLedgerEntry.id)).all()
    session.commit()
    return {"case_id": case.id, "reference": case.reference, "priority": case.priority,
            "timers": timers, "ledger": ledger}


AT_RISK_LIMIT = 200


def at_risk(session: Session, actor: Principal, *, state: str | None = None,
            channel: str | None = None, queue: str | None = None,
            limit: int = AT_RISK_LIMIT) -> dict:
    """Cases whose open timers breached or were warned (about to breach), with the ledger
    lines that explain each timer: the breached first, the longest overdue first.

    `state`: "breached" or "warning" (warned, not breached yet); `queue`: a queue's slug.
    Supervisors and admins (reports:read); department staff see their department's only.
    """
    actor.require("reports:read")
    breached = SlaTimer.breached_at.is_not(None)
    warned = and_(SlaTimer.breached_at.is_(None), SlaTimer.warned_at.is_not(None))
    cases = visible_cases(actor).add_columns(
        confidentiality.shown_subject(actor).label("shown_subject")).subquery()
    query = (select(SlaTimer, cases.c.reference, cases.c.shown_subject, cases.c.channel,
                    cases.c.status, cases.c.priority, Queue.slug, Queue.name)
             .join(cases, cases.c.id == SlaTimer.case_id)
             .outerjoin(Queue, Queue.id == cases.c.queue_id)
             .where(SlaTimer.status.in_(OPEN_STATUSES),
                    {"breached": breached, "warning": warned}.get(state, or_(breached, warned)))
             .order_by(SlaTimer.breached_at.is_(None), SlaTimer.due_at, SlaTimer.id)
             .limit(limit + 1))
    if channel:
        query = query.where(cases.c.channel == channel)
    if queue:
        query = query.where(Queue.slug == queue)
    rows = session.execute(query).all()
    timers = rows[:limit]
    ledger: dict[int, list[SlaLedgerEntry]] = {}
    if timers:
        for entry in session.scalars(
                select(SlaLedgerEntry).where(SlaLedgerEntry.timer_id.in_(
                    [row[0].id for row in timers])).order_by(SlaLedgerEntry.id)):
            ledger.setdefault(entry.timer_id, []).append(entry)
    items = [{"case_id": timer.case_id, "reference": reference, "subject": subject,
              "channel": case_channel, "case_status": status, "priority": priority,
              "queue": queue_slug, "queue_name": queue_name,
              "state": "breached" if timer.breached_at else "warning",
              "timer": timer, "ledger": ledger.get(timer.id, [])}
             for timer, reference, subject, case_channel, status, priority, queue_slug,
             queue_name in timers]
    return {"items": items, "truncated": len(rows) > limit}
