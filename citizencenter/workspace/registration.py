"""A call or a visit the guide has just handled, registered in one go.

It counts in the figures as DESIGN.md defines them: first-contact resolution is the
case's `resolved_at_first_contact`; the phone survey's direct answer is an answered call
(the phone system's record) whose case is resolved at first contact. So a registered
call names the call it was (`call_id`, from the screen pop) and becomes that call's case;
without it the call counts for first-contact resolution but not as a direct answer, since
no answered call backs it. A visit goes through the walk-in service.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel, Direction
from citizencenter.cases.models import Case
from citizencenter.channels.phone import callers
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.channels.walkin import service as walkin
from citizencenter.contacts import service as contacts
from citizencenter.contacts.models import Contact
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import Forbidden, InvalidInput, NotFound
from citizencenter.organisation.models import Category, ServicePoint
from citizencenter.organisation.service import by_slug
from citizencenter.routing.models import GuideProfile

FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
CHANNELS = {"phone": Channel.PHONE, "walk_in": Channel.WALK_IN, "walkin": Channel.WALK_IN}


def register_contact(session: Session, actor: Principal, *, channel: str | Channel,
                     category: str | None, subject: str, description: str = "",
                     resolved_first_contact: bool, contact: dict | None = None,
                     call_id: int | None = None, service_point: str | None = None,
                     handled_at: datetime | None = None, walkin_minutes: int = 10) -> Case:
    """Register a call or a visit just handled; resolved at first contact, it is closed."""
    kind = CHANNELS.get(str(channel))
    if kind is None:
        raise InvalidInput("channel", "A call (phone) or a visit (walk_in).")
    if actor.is_department_staff:
        raise Forbidden("Calls and visits are registered by the centre's guides.")
    if kind == Channel.WALK_IN:
        if call_id is not None:
            raise InvalidInput("call_id", "A visit is not a call.")
        return walkin.register_visit(
            session, actor, service_point=_service_point(session, actor, service_point),
            visited_at=handled_at or utcnow(), subject=subject, category=category,
            description=description, resolved_at_first_contact=resolved_first_contact,
            contact=contact, default_minutes=walkin_minutes)
    call = _own_call(session, actor, call_id) if call_id is not None else None
    if call is not None and call.case_id is not None:
        case = _complete(session, actor, call, category, subject, description)
    else:
        case = _new_call_case(session, actor, call, category, subject, description, contact,
                              handled_at, resolved_first_contact)
    audit.record(session, actor.actor, "contact.registered", "case", case.id,
                 channel=kind.value, call_id=call.id if call else None,
                 resolved_first_contact=resolved_first_contact)
    if not resolved_first_contact:
        session.commit()
        return case
    # Through the case service, so the status change is audited and timed like any other.
    changes: dict = {"resolved_at_first_contact": True}
    if case.status not in FINISHED:
        changes["status"] = CaseStatus.CLOSED if case.status == CaseStatus.NEW \
            else CaseStatus.RESOLVED
    return cases.update_case(session, actor, case.id, case.version, changes)


def _service_point(session: Session, actor: Principal, slug: str | None) -> str:
    """The visit's service point: the one named, else the guide's own."""
    if slug:
        return slug
    point_id = session.scalar(select(GuideProfile.service_point_id)
                              .where(GuideProfile.user_id == actor.user_id)) \
        if actor.user_id else None
    point = session.get(ServicePoint, point_id) if point_id else None
    if point is None:
        raise InvalidInput("service_point", "Name the service point of the visit.")
    return point.slug


def _own_call(session: Session, actor: Principal, call_id: int) -> Call:
    """The answered call this guide's agent took, locked against the phone channel linking
    a case of its own meanwhile."""
    query = select(Call).where(Call.id == call_id)
    if is_postgresql(session):
        query = query.with_for_update()
    call = session.scalar(query.execution_options(populate_existing=True))
    if call is None or actor.user_id is None or call.agent_user_id != actor.user_id:
        raise NotFound("No such call answered by you.")
    if call.outcome != CallOutcome.ANSWERED:
        raise InvalidInput("call_id", "The call was not answered.")
    return call


def _new_call_case(session: Session, actor: Principal, call: Call | None,
                   category: str | None, subject: str, description: str,
                   contact: dict | None, handled_at: datetime | None,
                   resolved: bool) -> Case:
    now = utcnow()
    if handled_at is not None and handled_at > now:
        raise InvalidInput("handled_at", "Lies in the future.")
    received_at = (call.entered_at if call else None) or handled_at or now
    if contact is None and call is not None and call.caller:
        contact = {"phone": call.caller}
    metadata = {"call_id": call.call_id, "source": call.source} if call else {}
    # Resolved: new, then closed (as a settled visit); otherwise the guide keeps it open.
    case = cases.add_case(
        session, actor, channel=Channel.PHONE, subject=subject, description=description,
        category=category, contact=contact, received_at=min(received_at, now),
        channel_metadata=metadata, assignee_id=actor.user_id,
        first_response_at=min((call.answered_at if call else None) or now, now),
        status=CaseStatus.NEW if resolved else CaseStatus.OPEN)
    if call is not None:
        call.case_id = case.id  # the phone channel links no second case to it
    return case


def _complete(session: Session, actor: Principal, call: Call, category: str | None,
              subject: str, description: str) -> Case:
    """The case the phone channel already opened or joined for the call, told what it was.

    A case opened for this call takes the guide's subject; a case the call joined (the
    caller's open inquiry, perhaps confidential) keeps its own, and the call's subject
    goes into the note instead."""
    case = cases.get_case(session, actor, call.case_id)
    opened_for_call = case.subject == callers.answered_call_subject(call)
    note = description if opened_for_call else "\n".join(
        part for part in (f"Samtal: {subject}", description) if part)
    if note:
        cases.append_message(session, actor, case.id, direction=Direction.INTERNAL, body=note)
    if opened_for_call:
        case.subject = subject
    if category is not None and (opened_for_call or case.category is None):
        case.category = by_slug(session, Category, category, "category")
    case.first_response_at = case.first_response_at or call.answered_at or utcnow()
    session.flush()
    return case


@dataclass
class RegistrationForm:
    """What the registration form offers, and what it starts with for an answered call."""

    categories: list[Category]
    service_points: list[ServicePoint]
    own_service_point: str | None  # the guide's own, the default for a visit
    call_id: int | None = None
    contact: dict = field(default_factory=dict)  # name, phone, email of the caller


def registration_form(session: Session, actor: Principal, call_id: int | None = None
                      ) -> RegistrationForm:
    """The choices of the form; with `call_id`, the caller as the phone system and the
    contacts know them (only for the guide whose agent answered the call, else 404)."""
    if actor.is_department_staff:
        raise Forbidden("Calls and visits are registered by the centre's guides.")
    own = session.scalar(select(ServicePoint.slug).join(
        GuideProfile, GuideProfile.service_point_id == ServicePoint.id)
        .where(GuideProfile.user_id == actor.user_id)) if actor.user_id else None
    form = RegistrationForm(
        categories=list(session.scalars(select(Category).order_by(Category.name))),
        service_points=list(session.scalars(select(ServicePoint).order_by(ServicePoint.name))),
        own_service_point=own)
    if call_id is None:
        return form
    call = session.get(Call, call_id)
    if call is None or actor.user_id is None or call.agent_user_id != actor.user_id:
        raise NotFound("No such call answered by you.")
    form.call_id = call.id
    known = session.scalar(contacts.visible_contacts(actor.sees_protected)
                           .where(Contact.phone == call.caller)
                           .order_by(Contact.id).limit(1)) if call.caller else None
    form.contact = {"name": known.name if known else None,
                    "email": known.email if known else None, "phone": call.caller}
    return form
