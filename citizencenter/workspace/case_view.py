"""The case page's use cases: what it shows of a case, and each change it makes.

Every read and change goes through the case, routing and SLA services the API uses (the
same access rules: department staff get 404 for other departments' cases). Every change
names the case version the guide saw; a case changed meanwhile raises PreconditionFailed
and nothing is written, so the page can show the new state and keep the guide's input.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import Department
from citizencenter.accounts.service import Principal
from citizencenter.answers import service as answers
from citizencenter.cases import confidentiality, delivery
from citizencenter.cases import service as cases
from citizencenter.cases.enums import TRANSITIONS, CaseStatus, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.citizen_view import service as citizen_view
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput, NotFound, PreconditionFailed
from citizencenter.organisation.models import Category
from citizencenter.routing import forwarding
from citizencenter.sla import queries as sla_queries
from citizencenter.sla.models import SlaTimer
from citizencenter.workspace.service import sla_state

OTHER_CASES = 10
MAX_MESSAGES = 500
# An outgoing message's delivery state as the page names it; the last three are final.
FINAL_STATES = delivery.FINAL_STATES
# Statuses a guide picks from the status list; forwarding has its own form.
CHOSEN_STATUSES = tuple(s for s in CaseStatus if s != CaseStatus.FORWARDED)


@dataclass
class ShownMessage:
    message: Message
    delivery: delivery.Delivery | None  # None: not sent to the citizen on a channel


@dataclass
class ShownTimer:
    timer: SlaTimer
    state: str  # ok, warn, breached (running or paused clocks); else the timer's status


@dataclass
class CaseView:
    case: Case
    messages: list[ShownMessage]
    other_cases: list[Case]
    timers: list[ShownTimer]
    statuses: list[CaseStatus]  # the current status and those it may go to
    categories: list[Category]
    departments: list[Department] = field(default_factory=list)
    links_revoked_at: datetime | None = None  # the citizen's links issued until then refused


def show_case(session: Session, actor: Principal, case_id: uuid.UUID) -> CaseView:
    """Everything the case page shows; opening it is audited like the API's read."""
    case = cases.shown_case(session, actor, case_id, "page")
    view = _view(session, actor, case)
    session.commit()
    return view


def current_view(session: Session, actor: Principal, case_id: uuid.UUID) -> CaseView:
    """The case as it is now, after a change (not audited again: the page is open)."""
    session.rollback()
    return _view(session, actor, cases.get_case(session, actor, case_id))


def _view(session: Session, actor: Principal, case: Case) -> CaseView:
    messages = [] if case.content_hidden else list(session.scalars(
        select(Message).where(Message.case_id == case.id)
        .order_by(Message.created_at, Message.id).limit(MAX_MESSAGES)))
    sent = delivery.deliveries(session, messages)
    others = []
    if case.contact_id is not None:
        others = list(session.scalars(
            cases.visible_cases(actor).where(Case.contact_id == case.contact_id,
                                             Case.id != case.id)
            .order_by(Case.received_at.desc()).limit(OTHER_CASES)))
        confidentiality.grant(actor, others)
    now = utcnow()
    timers = [ShownTimer(t, sla_state(t, now) if t.status in ("running", "paused")
                         else t.status.value)
              for t in session.scalars(select(SlaTimer).where(SlaTimer.case_id == case.id)
                                       .order_by(SlaTimer.due_at, SlaTimer.id))]
    statuses = [s for s in CHOSEN_STATUSES if s == case.status or s in TRANSITIONS[case.status]]
    departments = [] if actor.is_department_staff else list(
        session.scalars(select(Department).order_by(Department.name)))
    return CaseView(
        case=case, messages=[ShownMessage(m, sent.get(m.id)) for m in messages],
        other_cases=others, timers=timers, statuses=statuses,
        categories=list(session.scalars(select(Category).order_by(Category.name))),
        departments=departments,
        links_revoked_at=citizen_view.revoked_at(session, case.id) if case.contact_id else None)


def delivery_state(session: Session, actor: Principal, case_id: uuid.UUID,
                   message_id: int) -> delivery.Delivery | None:
    """An outgoing message's delivery, for the page to follow it until it is final."""
    case = cases.get_case(session, actor, case_id)
    message = session.scalar(select(Message).where(Message.id == message_id,
                                                   Message.case_id == case.id))
    if message is None:
        raise NotFound("No such message.")
    state = delivery.deliveries(session, [message]).get(message.id)
    session.commit()
    return state


def sla_ledger(session: Session, actor: Principal, case_id: uuid.UUID) -> dict:
    """The timers and the ledger lines explaining them (audited, as the API's read)."""
    return sla_queries.case_sla(session, actor, case_id)


def _seen(session: Session, actor: Principal, case_id: uuid.UUID, version: int | None) -> Case:
    """The case, if it is still at the version the guide saw."""
    if version is None:
        raise InvalidInput("version", "The page did not send the case version.")
    case = cases.get_case(session, actor, case_id)
    if case.version != version:
        raise PreconditionFailed("The case changed since you read it.")
    return case


def add_message(session: Session, actor: Principal, case_id: uuid.UUID, version: int | None,
                direction: Direction, body: str, answer_template: str | None = None
                ) -> Message:
    """A reply to the citizen (sent on the case's channel by a worker) or an internal note;
    a reply filled from an answer template records which."""
    if direction not in (Direction.OUTBOUND, Direction.INTERNAL):
        raise InvalidInput("direction", "A guide replies or writes a note.")
    if not body.strip():
        raise InvalidInput("body", "Empty.")
    case = _seen(session, actor, case_id, version)
    metadata = None
    if answer_template is not None and direction == Direction.OUTBOUND:
        if not answer_template.isdigit():
            raise InvalidInput("answer_template_id", "Not a template id.")
        metadata = answers.reply_metadata(session, case, int(answer_template))
    return cases.add_message(session, actor, case_id, direction=direction, body=body,
                             channel_metadata=metadata)


def change(session: Session, actor: Principal, case_id: uuid.UUID, version: int | None,
           changes: dict) -> Case:
    """Change status, priority, category or resolve (the API's PATCH with If-Match)."""
    return cases.update_case(session, actor, case_id, version, changes)


def forward(session: Session, actor: Principal, case_id: uuid.UUID, version: int | None,
            department: str, note: str | None):
    """Forward the case to a department with a note (routing's forwarding)."""
    if not department:
        raise InvalidInput("department", "Choose a department.")
    _seen(session, actor, case_id, version)
    return forwarding.forward(session, actor, case_id, department, (note or "").strip() or None)
