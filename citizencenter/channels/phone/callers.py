"""What a call means for the citizen: a case for an answered call, a callback for a missed one."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseKind, CaseStatus, Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.sla.calendar import office_hours_calendar

ACTIVE = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN)


def link_cases(session: Session, call: Call, short_abandon_s: float,
               callback_target: timedelta) -> None:
    """Open or join the caller's case, or create a callback; never twice for one call."""
    if call.outcome == CallOutcome.ANSWERED and call.case_id is None:
        call.case_id = _case_for_answered_call(session, call).id
    missed = (call.outcome == CallOutcome.ABANDONED and (call.wait_s or 0) > short_abandon_s)
    if (missed or call.callback_requested) and call.caller and call.callback_case_id is None:
        call.callback_case_id = _callback_case(session, call, callback_target).id


def _open_case_of(session: Session, phone: str, kind: CaseKind) -> Case | None:
    return session.scalar(
        select(Case).join(Contact, Case.contact_id == Contact.id)
        .where(Contact.phone == phone, Case.kind == kind, Case.status.in_(ACTIVE))
        .order_by(Case.received_at.desc()).limit(1))


def _log(session: Session, case: Case, call: Call, body: str) -> None:
    session.add(Message(case=case, direction=Direction.INBOUND, channel=Channel.PHONE,
                        body=body, created_at=call.answered_at or call.entered_at,
                        channel_metadata={"call_id": call.call_id, "source": call.source,
                                          "queue": call.queue, "agent": call.agent}))


def _case_for_answered_call(session: Session, call: Call) -> Case:
    existing = _open_case_of(session, call.caller, CaseKind.INQUIRY) if call.caller else None
    if existing is not None:
        _log(session, existing, call, "Besvarat samtal i samma ärende.")
        return existing
    case = cases_service.add_case(
        session, SYSTEM, channel=Channel.PHONE, subject=f"Samtal till {call.queue or 'växeln'}",
        description="", contact={"phone": call.caller} if call.caller else None,
        received_at=min(call.entered_at, utcnow()), assignee_id=call.agent_user_id,
        status=CaseStatus.OPEN if call.agent_user_id else CaseStatus.NEW)
    _log(session, case, call, "Besvarat samtal.")
    return case


def _callback_case(session: Session, call: Call, target: timedelta) -> Case:
    existing = _open_case_of(session, call.caller, CaseKind.CALLBACK)
    if existing is not None:
        _log(session, existing, call, "Nytt missat samtal från samma nummer.")
        return existing
    missed_at = min(call.finished_at or call.entered_at, utcnow())
    case = cases_service.add_case(
        session, SYSTEM, channel=Channel.PHONE, subject="Ring upp", description="",
        contact={"phone": call.caller}, received_at=missed_at, kind=CaseKind.CALLBACK,
        due_at=office_hours_calendar().add_business_time(missed_at, target))
    _log(session, case, call, "Begärd återuppringning." if call.callback_requested
         else "Missat samtal: ring upp.")
    return case
