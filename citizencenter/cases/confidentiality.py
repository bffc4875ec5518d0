"""Confidential cases (sekretess): who may see a case's content, and marking it.

A case marked confidential (with the OSL chapter and section that applies) still shows
that it exists, to everyone who may see the case at all, with its subject replaced; its
content (subject, message bodies, notes, attachments, channel metadata, personnummer
found in it) is shown only to its assignee, the staff of its department and supervisors
and admins. The rule is one SQL clause (`content_visible`, for lists and search) and its
Python twin (`may_see_content`, for a case in hand); both read the same columns.

Marking and unmarking are `cases.marking`'s use cases.
"""

from collections.abc import Iterable

from sqlalchemy import case as when
from sqlalchemy import literal, or_, true
from sqlalchemy.orm import Session

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases.models import CONFIDENTIAL_SUBJECT, Case
from citizencenter.errors import Forbidden

# Views of a case that show its content; a confidential case's are audited as such.
CONTENT_VIEWS = frozenset({"case", "page", "messages", "attachment", "identity_numbers",
                           "archive"})
# Views that are nothing but content: refused (403) to those who may not see it. The
# archival document (records) is the whole case, its conversation and attachments.
CONTENT_ONLY_VIEWS = frozenset({"messages", "attachment", "identity_numbers", "archive"})
__all__ = ["CONFIDENTIAL_SUBJECT", "ConfidentialContent", "content_visible", "may_see_content"]


class ConfidentialContent(Forbidden):
    title, slug = "Confidential case", "confidential-case"


# Who reads every confidential case; the only ones routing gives one from a queue to (a
# guide would read it as its assignee, chosen by no one who could).
READS_EVERY_CASE = frozenset({Role.SUPERVISOR, Role.ADMIN})


def _sees_all(actor: Principal) -> bool:
    # "*": admins' tokens and the system's own work (workers sending a reply).
    return actor.role in READS_EVERY_CASE or "*" in actor.scopes


def handles(actor: Principal, case: Case) -> bool:
    """The caller is one of those a confidential case's content is shown to."""
    if _sees_all(actor):
        return True
    if actor.user_id is not None and case.assignee_id == actor.user_id:
        return True
    return actor.is_department_staff and actor.department_id is not None \
        and case.department_id == actor.department_id


def may_see_content(actor: Principal, case: Case) -> bool:
    """The caller may see what the case holds (always, unless it is confidential)."""
    return case.confidential_at is None or handles(actor, case)


# What decides a confidential case's handling: who has it, whether it is done, what it is
# about. Changed blind, it would hand the content to whoever was chosen (a guide assigning
# the case to themselves reads it next). Triage (priority, category, queue) and a note are
# not decisions of that kind and stay open to everyone who sees the case.
HANDLING_FIELDS = frozenset({"subject", "status", "assignee", "resolved_at_first_contact"})


def require_content(actor: Principal, case: Case, action: str) -> None:
    """Refuse `action` on a confidential case to a caller who may not read it."""
    if not may_see_content(actor, case):
        raise ConfidentialContent(f"The case is confidential (sekretess): {action} is for "
                                  "those who may read it.")


def content_visible(actor: Principal):
    """`may_see_content` as a clause on `cases`, for lists and text search."""
    if _sees_all(actor):
        return true()
    allowed = [Case.confidential_at.is_(None)]
    if actor.user_id is not None:
        allowed.append(Case.assignee_id == actor.user_id)
    if actor.is_department_staff and actor.department_id is not None:
        allowed.append(Case.department_id == actor.department_id)
    return or_(*allowed)


def takeable(actor: Principal):
    """A clause on `cases`: the waiting cases the caller may take from a queue. Routing
    gives a confidential one only to those who read every confidential case."""
    return true() if _sees_all(actor) else Case.confidential_at.is_(None)


def shown_subject(actor: Principal):
    """The subject column as the caller is shown it (a list's `subject`)."""
    if _sees_all(actor):
        return Case.subject
    return when((content_visible(actor), Case.subject),
                else_=literal(CONFIDENTIAL_SUBJECT)).label("subject")


def grant(actor: Principal, cases: Iterable[Case]) -> None:
    """Show the caller the content of those of `cases` they may see; the others keep the
    masked subject (`Case.shown_subject`) and `content_hidden`."""
    for case in cases:
        case.content_allowed = may_see_content(actor, case)


def shown(session: Session, actor: Principal, case: Case, view: str, **detail) -> None:
    """A case is shown in `view` (the caller commits): a confidential case's content read is
    audited, and a view that is only content is refused to those who may not see it."""
    grant(actor, [case])
    if case.confidential_at is None or view not in CONTENT_VIEWS:
        return
    if case.content_allowed:
        audit.record(session, actor.actor, "case.confidential_read", "case", case.id,
                     view=view, **detail)
    elif view in CONTENT_ONLY_VIEWS:
        raise ConfidentialContent("The case is confidential (sekretess); its content is "
                                  "shown to its assignee, its department and supervisors.")
