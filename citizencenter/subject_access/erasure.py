"""Erasing one person's data on their request (GDPR art. 17), as far as the law allows.

A case's content is erased with `privacy.erasure.erase_case` (the reports keep their
facts) unless something requires keeping it, and the report says what:
- a legal hold on the case or on the person's contact;
- a case still open: the matter is not finished;
- a case someone else raised that names the person's number: it is their inquiry too;
- a retention rule (gallring) that keeps the case longer: a public record may be disposed
  of only as the retention plan says (GDPR art. 17(3)(b)), and a case no rule covers has
  no disposal decision at all, so it is kept.
The contact's details go once none of its cases is kept (erase_case does that), except
for a contact with a protected identity: its marking and the e-mail, phone and channel ids
that recognise the person are kept, so that their next contact is protected too; the
name goes.
Call records found by the person's number but on no case lose the number the same way.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call, CallEvent
from citizencenter.contacts.models import Contact, ContactIdentity
from citizencenter.db import utcnow
from citizencenter.privacy import erasure
from citizencenter.privacy.models import LegalHold, RetentionRule
from citizencenter.privacy.retention import service as retention
from citizencenter.subject_access.finding import Person

REASON = "data_subject_request"  # the reason erase_case records, beside a rule's id
ENDED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


@dataclass
class ErasureReport:
    """What was (or, in a dry run, would be) erased, and what is kept and why."""

    dry_run: bool
    erased: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "erased": self.erased, "kept": self.kept}


def erase(session: Session, person: Person, *, actor: str, dry_run: bool,
          now: datetime | None = None) -> ErasureReport:
    """Erase what may be erased of `person`; the caller commits."""
    now = now or utcnow()
    report = ErasureReport(dry_run)
    rules = retention.list_rules(session)
    erased_before = erasure.erased_ids(session, person.case_ids)
    kept_cases: set = set()
    protected = {c.id: (c.email, c.phone, [(i.kind, i.value) for i in c.identities])
                 for c in person.contacts if c.protection is not None}
    for case in person.cases:
        item = {"kind": "case", "id": str(case.id), "reference": case.reference}
        previously = case.id in erased_before
        # Erased and closed, nothing is left that a rule keeps; a hold still stops erasing
        # what the citizen wrote since. Erased and reopened, it is an open case again.
        why = (_hold(session, case) if previously and case.status in ENDED
               else _why_kept(session, person, case, rules, now))
        if why is not None:
            kept_cases.add(case.id)
            report.kept.append({**item, **why})
            continue
        if dry_run:
            already = previously and case.subject == erasure.ERASED_SUBJECT
        else:
            already = erasure.erase_case(session, case, reason=REASON, actor=actor,
                                         now=now).already
        report.erased.append({**item, "reason": "already_erased" if already else None,
                              "detail": "Erased before." if already else None})
    for contact in person.contacts:
        item = {"kind": "contact", "id": str(contact.id), "reference": None}
        kept = sum(1 for case in person.cases
                   if case.contact_id == contact.id and case.id in kept_cases)
        if _held(session, contact_id=contact.id):
            report.kept.append({**item, "reason": "legal_hold",
                                "detail": "A legal hold lies on the contact."})
        elif kept:
            report.kept.append({**item, "reason": "cases_kept",
                                "detail": f"{kept} of its cases are kept, and who they "
                                          "concern with them."})
        elif contact.id in protected:
            if not dry_run:
                _keep_protected(session, contact, *protected[contact.id])
            report.kept.append({**item, "reason": "protected_identity", "detail": (
                "A protected identity: the marking and the e-mail, phone and channel ids "
                "that recognise the person stay, so their next contact is protected too; "
                "the name is erased.")})
        else:
            if not dry_run:
                # Its cases are erased (erase_case erased it with the last); one with no case
                # at all is erased here.
                erasure.erase_contact_if_unused(session, contact.id)
            report.erased.append({**item, "reason": None, "detail": None})
    for call in person.calls:
        if call.case_id is None and call.callback_case_id is None:
            if not dry_run:
                _erase_call(session, call)
            report.erased.append({"kind": "call", "id": str(call.id), "reference": None,
                                  "reason": None, "detail": None})
    session.flush()
    return report


def _keep_protected(session: Session, contact: Contact, email, phone, identities) -> None:
    """Put back what recognises a protected person after erase_case took the contact's
    details with its last case."""
    session.flush()
    contact.name, contact.email, contact.phone = None, email, phone
    present = {tuple(row) for row in session.execute(
        select(ContactIdentity.kind, ContactIdentity.value)
        .where(ContactIdentity.contact_id == contact.id))}
    session.add_all(ContactIdentity(contact_id=contact.id, kind=kind, value=value)
                    for kind, value in identities if (kind, value) not in present)
    session.expire(contact, ["identities"])


def _why_kept(session: Session, person: Person, case: Case, rules: list[RetentionRule],
              now: datetime) -> dict | None:
    held = _hold(session, case)
    if held is not None:
        return held
    if case.contact_id is not None and not person.is_own(case):
        return {"reason": "raised_by_another",
                "detail": "Someone else raised the case about the person; it is their "
                          "inquiry too."}
    if case.status not in ENDED:
        return {"reason": "open_case", "detail": f"The case is {case.status.value}; it is "
                                                 "kept until it is closed."}
    rule = covering_rule(case, rules)
    if rule is None:
        # A public record may only be erased under a disposal decision (arkivlagen), and the
        # duty to keep it outweighs the request (GDPR art. 17.3 b).
        return {"reason": "no_disposal_decision",
                "detail": "No retention rule covers the case, so it is kept as a public "
                          "record."}
    ended = case.closed_at or case.resolved_at or case.received_at
    if ended > retention.months_before(now, rule.keep_months):
        return {"reason": "retention_rule",
                "detail": f"Retention rule {rule.id} keeps it {rule.keep_months} months "
                          f"after it closed ({ended.date().isoformat()})."}
    return None


def _hold(session: Session, case: Case) -> dict | None:
    if erasure.is_held(session, case):
        return {"reason": "legal_hold", "detail": "A legal hold lies on the case or its "
                                                  "contact."}
    return None


def _held(session: Session, *, contact_id: int) -> bool:
    return session.scalar(select(LegalHold.id).where(
        LegalHold.contact_id == contact_id, LegalHold.released_at.is_(None)).limit(1)) is not None


def covering_rule(case: Case, rules: list[RetentionRule]) -> RetentionRule | None:
    """The rule that covers the case: the first that matches of `rules`, most specific first
    (category and channel, category, channel, the default)."""
    return next((r for r in rules if r.category_id in (None, case.category_id)
                 and r.channel in (None, str(case.channel))), None)


def _erase_call(session: Session, call: Call) -> None:
    """A call on no case: the caller's number and the events' payloads go, the times stay."""
    call.caller = None
    for event in session.scalars(select(CallEvent).where(
            CallEvent.source == call.source, CallEvent.call_id == call.call_id)):
        event.caller, event.raw = None, None
        event.metrics = {k: v for k, v in (event.metrics or {}).items()
                         if not any(hint in k.lower() for hint in erasure.RECORDING_HINTS)}
