"""The audit trail of case events: who created, changed, forwarded or was shown a case.

A case event subscriber, subscribed last at app start so that its entries follow the
other domains' effects. It lives beside the events rather than in `audit`, because
`audit` is the plumbing every domain (accounts too) writes to and sits below `cases`.
Entries name the case and the change, never what the citizen wrote.
"""

from sqlalchemy.orm import Session

from citizencenter.audit import service as audit
from citizencenter.cases import events
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case, Message

FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


def _created(session: Session, case: Case, *, actor: str) -> None:
    audit.record(session, actor, "case.created", "case", case.id, channel=case.channel.value)


def _status_changed(session: Session, case: Case, *, actor: str, previous: CaseStatus) -> None:
    if case.status == CaseStatus.OPEN and previous in FINISHED:
        audit.record(session, actor, "case.reopened", "case", case.id)
    audit.record(session, actor, "case.status_changed", "case", case.id,
                 **{"from": previous.value, "to": case.status.value})


def _message_added(session: Session, case: Case, *, actor: str, message: Message) -> None:
    audit.record(session, actor, "message.added", "case", case.id,
                 message_id=message.id, direction=message.direction.value)


def _forwarded(session: Session, case: Case, *, actor: str, department: str,
               **_previous) -> None:
    audit.record(session, actor, "case.forwarded", "case", case.id, department=department)


def _returned(session: Session, case: Case, *, actor: str, **_previous) -> None:
    audit.record(session, actor, "case.returned", "case", case.id)


def _viewed(session: Session, case: None, *, actor: str, case_id, view: str, **detail) -> None:
    audit.record(session, actor, "case.read", "case", case_id, view=view, **detail)


def subscribe_case_events() -> None:
    """Keep every case event the trail records (run at app start, after the other domains)."""
    for event, handler in (("created", _created), ("status_changed", _status_changed),
                           ("message_added", _message_added), ("forwarded", _forwarded),
                           ("returned", _returned), ("viewed", _viewed)):
        events.subscribe(event, handler)
