"""Forwarding a case to a department, the department's own clock, and sending it back."""

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts.models import Department
from citizencenter.accounts.service import Principal
from citizencenter.cases import confidentiality, events
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseStatus, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.db import utcnow
from citizencenter.errors import Forbidden, InvalidInput, InvalidTransition
from citizencenter.organisation.models import ChannelDefaultQueue, Queue
from citizencenter.routing import assignment, decisions, escalation
from citizencenter.routing.models import CaseForwarding
from citizencenter.sla import service as sla_service


def _note(session: Session, case: Case, actor: Principal, note: str | None) -> int | None:
    if not note:
        return None
    message = Message(case=case, direction=Direction.INTERNAL, channel=case.channel,
                      body=note, author_id=actor.user_id, created_at=utcnow())
    session.add(message)
    session.flush()
    return message.id


def hand_over(session: Session, case: Case, department: Department, actor: Principal,
              note: str | None, reason: str) -> CaseForwarding:
    """Put the case in the department's queue and start its clock (the caller commits).

    The department is told the due time of the clock the department-resolution SLA
    policy starts, so the time it is given is the one the deadline scan watches.
    """
    now = utcnow()
    previous_assignee, previous_status = case.assignee_id, case.status
    forwarding = CaseForwarding(
        case_id=case.id, department_id=department.id, from_queue_id=case.queue_id,
        note_message_id=_note(session, case, actor, note), forwarded_by=actor.actor,
        forwarded_at=now)
    case.department_id = department.id
    case.queue_id = session.scalar(select(Queue.id).where(Queue.department_id == department.id)
                                   .order_by(Queue.id).limit(1))
    case.status, case.assignee_id = CaseStatus.FORWARDED, None
    case.waiting_since = case.escalate_at = None
    session.flush()
    events.publish(session, "forwarded", case, actor=actor.actor, previous=previous_status,
                   department=department.slug)
    forwarding.department_due_at = sla_service.department_due_at(session, case)
    session.add(forwarding)
    session.flush()
    decisions.record(session, case, "forwarded", reason, actor=actor.actor,
                     forwarding_id=forwarding.id)
    outbox.enqueue(session, "routing.case_forwarded", {"forwarding_id": forwarding.id})
    if previous_assignee is not None:
        outbox.enqueue(session, "routing.capacity_freed", {"user_id": previous_assignee})
    return forwarding


def _locked_case(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    cases_service.get_case(session, actor, case_id)  # 404 for cases the caller may not see
    return assignment.lock_case(session, case_id, skip=False)


def forward(session: Session, actor: Principal, case_id: uuid.UUID, department_slug: str,
            note: str | None) -> CaseForwarding:
    """A guide forwards a case to a department with a note; the department is told."""
    case = _locked_case(session, actor, case_id)
    if actor.is_department_staff:
        raise Forbidden("Department staff send cases back; they do not forward them.")
    confidentiality.require_content(actor, case, "forwarding")  # the department would read it
    department = session.scalar(select(Department).where(Department.slug == department_slug))
    if department is None:
        raise InvalidInput("department", f"Unknown department {department_slug!r}.")
    if not case.can_transition_to(CaseStatus.FORWARDED):
        raise InvalidTransition(f"A {case.status} case cannot be forwarded.")
    forwarding = hand_over(session, case, department, actor, note, "forwarded_by_guide")
    session.commit()
    return forwarding


def send_back(session: Session, actor: Principal, case_id: uuid.UUID, note: str | None,
              sticky_window: timedelta = assignment.STICKY_WINDOW) -> Case:
    """The department returns a case to the centre's queue, where it waits for a guide."""
    case = _locked_case(session, actor, case_id)
    if case.status != CaseStatus.FORWARDED:
        raise InvalidTransition("Only a forwarded case can be sent back.")
    if not (actor.is_department_staff or actor.has_scope("routing:write")):
        raise Forbidden("Only the department or a supervisor sends a case back.")
    forwarding = session.scalar(
        select(CaseForwarding).where(CaseForwarding.case_id == case.id,
                                     CaseForwarding.returned_at.is_(None))
        .order_by(CaseForwarding.id.desc()).limit(1))
    now = utcnow()
    if forwarding is not None:
        forwarding.returned_at, forwarding.returned_by = now, actor.actor
    _note(session, case, actor, note)
    back_to = forwarding.from_queue_id if forwarding and forwarding.from_queue_id else \
        session.scalar(select(ChannelDefaultQueue.queue_id)
                       .where(ChannelDefaultQueue.channel == case.channel.value))
    case.department_id, case.queue_id, case.status = None, back_to, CaseStatus.OPEN
    events.publish(session, "returned", case, actor=actor.actor, previous=CaseStatus.FORWARDED)
    case.waiting_since = now
    case.escalate_at = escalation.deadline(session, back_to, now)
    session.flush()
    decisions.record(session, case, "returned", "sent_back_by_department", actor=actor.actor)
    outcome = assignment.try_assign(session, case, sticky_window)
    if outcome.contended:
        outbox.enqueue(session, "routing.case_waiting", {"case_id": str(case.id)})
    session.commit()
    return case
