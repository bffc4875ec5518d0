"""Reading a case's timers and ledger, with the case's own visibility rules."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases_service
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
