"""Marking a case confidential (sekretess) and lifting the marking; both audited.

The same people mark and unmark a case as see a confidential case's content: its assignee,
the staff of its department, supervisors and admins. They handle the content and can judge
whether an OSL provision applies. A guide who is not the assignee can neither mark a case
(hiding a colleague's case from them) nor lift a marking on content they may not read.
"""

import uuid

from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality
from citizencenter.cases import service as cases
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.errors import Forbidden, InvalidInput
from citizencenter.privacy import detection


def _may_mark(actor: Principal, case: Case) -> None:
    if not confidentiality.handles(actor, case):
        raise Forbidden("Only the case's assignee, its department's staff and supervisors "
                        "mark or unmark a case as confidential.")


def mark(session: Session, actor: Principal, case_id: uuid.UUID, reason: str) -> Case:
    """Mark a case confidential under an OSL provision (audited; a new reason replaces
    the old one)."""
    if detection.find(reason):  # the reason goes into the trail as it is written
        raise InvalidInput("reason", "Name the OSL provision; a personnummer has no place here.")
    case = cases.get_case(session, actor, case_id)
    _may_mark(actor, case)
    previous = case.confidential_reason
    case.confidential_reason, case.confidential_by = reason, actor.actor
    case.confidential_at = case.confidential_at or utcnow()
    audit.record(session, actor.actor, "case.confidential_marked", "case", case.id,
                 reason=reason, previous_reason=previous)
    session.commit()
    confidentiality.grant(actor, [case])
    return case


def unmark(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    """Lift the confidentiality marking (audited, with the reason it had)."""
    case = cases.get_case(session, actor, case_id)
    _may_mark(actor, case)
    if case.confidential_at is not None:
        audit.record(session, actor.actor, "case.confidential_unmarked", "case", case.id,
                     reason=case.confidential_reason)
        case.confidential_reason = case.confidential_at = case.confidential_by = None
    session.commit()
    confidentiality.grant(actor, [case])
    return case


def marking(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    """The case's marking; its provision is shown to those who may see its content."""
    case = cases.get_case(session, actor, case_id)
    if not case.content_allowed and case.confidential_at is not None:
        raise confidentiality.ConfidentialContent(
            "The provision of a confidential case is shown to its assignee, its department "
            "and supervisors.")
    session.commit()
    return case
