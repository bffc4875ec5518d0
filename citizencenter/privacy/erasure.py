"""Erasing one case's content (gallring) while keeping the facts the reports are made of.

What goes: the subject (a neutral placeholder), message bodies and their personal
channel metadata, e-mail subjects, addresses and HTML, attachments (bytes, names,
hashes), the raw mail kept in quarantine once it was stored on the case, social
messages as Meta sent them, call events' raw payloads and callers (and any recording
link in their metrics), the identity numbers found on the case, and the contact's
name, e-mail, phone and channel ids when no other case still keeps them.
What stays: every time, channel, queue, department, category, status, assignee, SLA
timer and ledger row, call wait, talk and outcome, and feedback score, so the report
of a period gives the same figures before and after its cases are erased.

`erase_case` is a helper: it adds its changes, one `case_erasures` row and one audit
entry (reference, rule or reason, time; no content) to the caller's transaction, and
the caller commits. Erasing an erased case again does nothing, unless it gained content
since (the citizen wrote again and reopened it): then that is erased, audited again.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from citizencenter.audit import service as audit
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.models import (
    AcknowledgedSender,
    EmailAttachment,
    EmailKind,
    EmailMessage,
    QuarantinedEmail,
)
from citizencenter.channels.phone.models import Call, CallEvent
from citizencenter.channels.social.models import SocialConversation, SocialDelivery, SocialMessage
from citizencenter.contacts.models import Contact, ContactIdentity
from citizencenter.db import utcnow
from citizencenter.errors import Conflict
from citizencenter.privacy import service as privacy
from citizencenter.privacy.models import CaseErasure, IdentityNumber, LegalHold
from citizencenter.routing.models import CaseForwarding

ERASED_SUBJECT = "Gallrat ärende"
ERASED_BODY = ""
# Message metadata the system itself writes that holds no personal data and that SLA,
# sending and reconciliation still read ("auto" keeps an acknowledgement from counting
# as the first reply; a delivery status keeps an erased reply from being sent again).
KEPT_METADATA = frozenset({
    "auto", "kind", "email_id", "threaded_by", "linked_case", "platform", "sent_at",
    "call_id", "source", "queue", "service_point", "duration_minutes", "auto_submitted",
    "has_html"})
KEPT_STATUS = ("status", "sent_at", "failed_at")
# Keys of a call event's metrics that may point at a recording of the call.
RECORDING_HINTS = ("record", "url", "link")


class CaseHeld(Conflict):
    """The case, or its contact, is under a legal hold: its content must be kept."""


@dataclass(frozen=True)
class ErasedCase:
    """What erasing one case did; `already` when it had been erased before."""

    case_id: uuid.UUID
    reference: str
    erased_at: datetime
    reason: str
    rule_id: int | None
    already: bool = False
    contact_erased: bool = False
    erased: dict[str, int] = field(default_factory=dict)
    kept: tuple[str, ...] = (
        "times, channel, queue, department, category, status and assignee",
        "SLA timers and ledger", "call waits, talk times and outcomes", "feedback scores")

    def summary(self) -> dict:
        return {"case_id": str(self.case_id), "reference": self.reference,
                "erased_at": self.erased_at.isoformat(), "reason": self.reason,
                "rule_id": self.rule_id, "already": self.already,
                "contact_erased": self.contact_erased, "erased": dict(self.erased),
                "kept": list(self.kept)}


def is_held(session: Session, case: Case) -> bool:
    """Whether an active legal hold lies on the case or on its contact."""
    on = LegalHold.case_id == case.id
    if case.contact_id is not None:
        on = or_(on, LegalHold.contact_id == case.contact_id)
    return bool(session.scalar(select(exists().where(on, LegalHold.released_at.is_(None)))))


def erased_ids(session: Session, case_ids) -> set[uuid.UUID]:
    """Those of `case_ids` whose content has been erased."""
    return set(session.scalars(select(CaseErasure.case_id)
                               .where(CaseErasure.case_id.in_(list(case_ids)))))


def erase_case(session: Session, case: Case, *, reason: str, rule_id: int | None = None,
               actor: str = "system", now: datetime | None = None) -> ErasedCase:
    """Erase a case's content, keep its report facts; the caller commits."""
    previous = session.get(CaseErasure, case.id)
    if previous is not None and not _written_since(session, case, previous.erased_at):
        return ErasedCase(case.id, case.reference, previous.erased_at, previous.reason,
                          previous.rule_id, already=True)
    if is_held(session, case):
        raise CaseHeld(f"Case {case.reference} is under a legal hold.")
    now = now or utcnow()
    if previous is not None:  # the citizen wrote again after the erasure: erase that too
        session.delete(previous)
        session.flush()
    counts: dict[str, int] = {}
    counts["messages"] = _erase_messages(session, case.id)
    counts.update(_erase_email(session, case.id))
    counts.update(_erase_calls(session, case.id))
    counts["social_messages"] = session.execute(
        update(SocialMessage).where(SocialMessage.case_id == case.id)
        .values(raw={})).rowcount
    counts["identity_numbers"] = session.execute(
        delete(IdentityNumber).where(IdentityNumber.case_id == case.id)).rowcount
    session.execute(update(CaseForwarding).where(CaseForwarding.case_id == case.id)
                    .values(last_error=None))
    case.subject = ERASED_SUBJECT
    session.add(CaseErasure(case_id=case.id, reference=case.reference, rule_id=rule_id,
                            reason=reason[:64], erased_at=now))
    session.flush()
    contact_erased = erase_contact_if_unused(session, case.contact_id)
    audit.record(session, actor, "case.erased", "case", case.id, reference=case.reference,
                 rule_id=rule_id, reason=reason[:64], contact_erased=contact_erased)
    return ErasedCase(case.id, case.reference, now, reason[:64], rule_id,
                      contact_erased=contact_erased,
                      erased={k: v for k, v in counts.items() if v})


def _written_since(session: Session, case: Case, erased_at: datetime) -> bool:
    """Whether the case gained content after its erasure (a reply reopened it)."""
    return bool(session.scalar(select(exists().where(
        Message.case_id == case.id, Message.created_at > erased_at)))) or \
        case.subject != ERASED_SUBJECT


def _erase_messages(session: Session, case_id: uuid.UUID) -> int:
    messages = session.scalars(select(Message).where(Message.case_id == case_id)).all()
    for message in messages:
        message.body = ERASED_BODY
        message.channel_metadata = _kept_metadata(message.channel_metadata or {})
    ids = [m.id for m in messages]
    if ids:
        session.execute(update(SocialDelivery).where(SocialDelivery.message_id.in_(ids))
                        .values(last_error=None))
    return len(messages)


def _kept_metadata(metadata: dict) -> dict:
    kept = {k: v for k, v in metadata.items() if k in KEPT_METADATA}
    for channel in ("email", "social"):
        if isinstance(metadata.get(channel), dict):
            kept[channel] = {k: v for k, v in metadata[channel].items() if k in KEPT_STATUS}
    return kept


def _erase_email(session: Session, case_id: uuid.UUID) -> dict[str, int]:
    inbound_ids = set(session.scalars(select(EmailMessage.message_id).where(
        EmailMessage.case_id == case_id, EmailMessage.kind == EmailKind.INBOUND,
        EmailMessage.message_id.is_not(None))))
    emails = session.execute(
        update(EmailMessage).where(EmailMessage.case_id == case_id)
        .values(subject="", from_address=None, to_address=None, html=None, raw=None,
                last_error=None)).rowcount
    attachments = session.execute(
        update(EmailAttachment).where(EmailAttachment.case_id == case_id)
        .values(content=None, filename=None, content_id=None, sha256=None)).rowcount
    return {"emails": emails, "attachments": attachments,
            "quarantined_emails": _erase_quarantined(session, case_id, inbound_ids)}


def _erase_quarantined(session: Session, case_id: uuid.UUID, message_ids: set[str]) -> int:
    """Drop the kept raw mail of quarantined messages a retry later stored on the case."""
    emptied = dict(raw=None, error_message=None, traceback=None, sha256=None)
    erased = session.execute(update(QuarantinedEmail).where(
        QuarantinedEmail.stored_case_id == case_id, QuarantinedEmail.raw.is_not(None))
        .values(**emptied)).rowcount
    if not message_ids:
        return erased
    # Stored before quarantined mail named its case: known only by the Message-ID inside.
    unnamed = session.scalars(select(QuarantinedEmail).where(
        QuarantinedEmail.stored_at.is_not(None), QuarantinedEmail.stored_case_id.is_(None),
        QuarantinedEmail.raw.is_not(None))).all()
    for row in unnamed:
        headers = BytesHeaderParser().parsebytes(privacy.open_mail(bytes(row.raw)))
        if str(headers.get("Message-ID", "")).strip().strip("<>") in message_ids:
            for name, value in emptied.items():
                setattr(row, name, value)
            erased += 1
    return erased


def _erase_calls(session: Session, case_id: uuid.UUID) -> dict[str, int]:
    calls = session.scalars(select(Call).where(
        or_(Call.case_id == case_id, Call.callback_case_id == case_id))).all()
    events = 0
    for call in calls:
        call.caller = None
        for event in session.scalars(select(CallEvent).where(
                CallEvent.source == call.source, CallEvent.call_id == call.call_id)):
            event.caller, event.raw = None, None
            event.metrics = {k: v for k, v in (event.metrics or {}).items()
                             if not any(hint in k.lower() for hint in RECORDING_HINTS)}
            events += 1
    return {"calls": len(calls), "call_events": events}


def erase_contact_if_unused(session: Session, contact_id: int | None) -> bool:
    """Erase the contact's details once none of its cases keeps its content."""
    if contact_id is None:
        return False
    live = select(Case.id).where(Case.contact_id == contact_id,
                                 ~exists().where(CaseErasure.case_id == Case.id))
    if session.scalar(select(exists(live))):
        return False
    if session.scalar(select(exists().where(LegalHold.contact_id == contact_id,
                                            LegalHold.released_at.is_(None)))):
        return False
    contact = session.get(Contact, contact_id)
    if contact is None:
        return False
    if contact.email:
        session.execute(delete(AcknowledgedSender).where(
            AcknowledgedSender.address == contact.email))
    contact.name = contact.email = contact.phone = None
    session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == contact_id))
    for conversation in session.scalars(select(SocialConversation).where(
            SocialConversation.contact_id == contact_id)):
        # The channel's id of the citizen; a new message from them starts a new conversation.
        conversation.citizen_id = f"erased:{conversation.id}"
    return True
