"""What a call means for the citizen: a case for an answered call, a callback for a missed one.

Runs after the call state is committed (`service.apply_events` hands the calls over
through the outbox), one batch of calls per transaction.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseKind, CaseStatus, Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.contacts.models import Contact
from citizencenter.db import is_postgresql, utcnow
from citizencenter.sla.calendars.calendar import office_hours_calendar

ACTIVE = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN)


def wants_callback(call: Call, short_abandon_s: float) -> bool:
    """A missed call (not a short abandon) or an asked-for callback, from a known number."""
    missed = call.outcome == CallOutcome.ABANDONED and (call.wait_s or 0) > short_abandon_s
    return (missed or call.callback_requested) and call.caller is not None


def needs_case(call: Call, short_abandon_s: float) -> bool:
    return (call.outcome == CallOutcome.ANSWERED and call.case_id is None) or (
        call.callback_case_id is None and wants_callback(call, short_abandon_s))


def calls_owed_a_case(session: Session, since: datetime, before: datetime,
                      short_abandon_s: float, limit: int) -> list[int]:
    """Calls last changed in [since, before) that still need a case (ix_calls_without_case)."""
    calls = session.scalars(
        select(Call).where(Call.case_id.is_(None), Call.callback_case_id.is_(None),
                           Call.updated_at >= since, Call.updated_at < before,
                           (Call.outcome == CallOutcome.ANSWERED)
                           | ((Call.caller.is_not(None)) & (
                               (Call.outcome == CallOutcome.ABANDONED)
                               | Call.callback_requested.is_(True))))
        .order_by(Call.updated_at).limit(limit))
    return [call.id for call in calls if needs_case(call, short_abandon_s)]


def link_calls(session: Session, call_ids: list[int], short_abandon_s: float = 5,
               callback_target: timedelta = timedelta(hours=2)) -> int:
    """Open or join the callers' cases for these calls; never twice for one call."""
    query = select(Call).where(Call.id.in_(call_ids)).order_by(Call.id)
    if is_postgresql(session):
        query = query.with_for_update()  # a call re-applied meanwhile waits for us
    calls = [call for call in session.scalars(query) if needs_case(call, short_abandon_s)]
    if not calls:
        session.rollback()
        return 0
    calls.sort(key=lambda call: (call.entered_at, call.id))  # the earlier call opens the case
    callers = _Callers(session, {call.caller for call in calls if call.caller})
    links = []
    with session.no_autoflush:  # everything the batch needs is read; write it in one flush
        for call in calls:
            if call.outcome == CallOutcome.ANSWERED and call.case_id is None:
                links.append((call, "case_id", callers.answered(call)))
            if call.callback_case_id is None and wants_callback(call, short_abandon_s):
                links.append((call, "callback_case_id", callers.missed(call, callback_target)))
    session.flush()  # the cases exist before the calls point at them
    for call, column, case in links:
        setattr(call, column, case.id)
    session.commit()
    return len(calls)


def answered_call_subject(call: Call) -> str:
    """The subject of a case opened for an answered call, until the guide names it."""
    return f"Samtal till {call.queue or 'växeln'}"


class _Callers:
    """The batch's callers with their contacts and open cases, read in two queries."""

    def __init__(self, session: Session, phones: set[str]):
        self.session = session
        self.contacts: dict[str, Contact] = {}
        self.open: dict[tuple[str, CaseKind], Case] = {}
        if not phones:
            return
        for contact in session.scalars(select(Contact).where(Contact.phone.in_(phones))
                                       .order_by(Contact.id)):
            self.contacts.setdefault(contact.phone, contact)  # the oldest, as find_or_create
        for case, phone in session.execute(
                select(Case, Contact.phone).join(Contact, Case.contact_id == Contact.id)
                .where(Contact.phone.in_(phones), Case.status.in_(ACTIVE),
                       Case.kind.in_([CaseKind.INQUIRY, CaseKind.CALLBACK]))
                .order_by(Case.received_at)):
            self.open[(phone, case.kind)] = case  # the newest wins

    def answered(self, call: Call) -> Case:
        existing = self.open.get((call.caller, CaseKind.INQUIRY)) if call.caller else None
        if existing is not None:
            _log(self.session, existing, call, "Besvarat samtal i samma ärende.")
            return existing
        case = self._add(
            call, subject=answered_call_subject(call), kind=CaseKind.INQUIRY,
            received_at=min(call.entered_at, utcnow()), assignee_id=call.agent_user_id,
            status=CaseStatus.OPEN if call.agent_user_id else CaseStatus.NEW)
        _log(self.session, case, call, "Besvarat samtal.")
        return case

    def missed(self, call: Call, target: timedelta) -> Case:
        existing = self.open.get((call.caller, CaseKind.CALLBACK))
        if existing is not None:
            _log(self.session, existing, call, "Nytt missat samtal från samma nummer.")
            return existing
        missed_at = min(call.finished_at or call.entered_at, utcnow())
        case = self._add(call, subject="Ring upp", kind=CaseKind.CALLBACK,
                         received_at=missed_at,
                         due_at=office_hours_calendar().add_business_time(missed_at, target))
        _log(self.session, case, call, "Begärd återuppringning." if call.callback_requested
             else "Missat samtal: ring upp.")
        return case

    def _add(self, call: Call, **fields) -> Case:
        contact = self.contacts.get(call.caller) if call.caller else None
        case = cases_service.stage_case(
            self.session, SYSTEM, channel=Channel.PHONE, description="",
            contact=contact or ({"phone": call.caller} if call.caller else None), **fields)
        if call.caller:
            self.contacts[call.caller] = case.contact
            self.open[(call.caller, case.kind)] = case
        return case


def _log(session: Session, case: Case, call: Call, body: str) -> None:
    session.add(Message(case=case, direction=Direction.INBOUND, channel=Channel.PHONE,
                        body=body, created_at=call.answered_at or call.entered_at,
                        channel_metadata={"call_id": call.call_id, "source": call.source,
                                          "queue": call.queue, "agent": call.agent}))
