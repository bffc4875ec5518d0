"""Inbound e-mail: deduplicate, thread onto a case, keep the files, queue the receipt.

Threading trusts, in order: our own signed Message-ID in In-Reply-To/References, any
stored Message-ID they name (inbound or outbound), the [MC-YYYY-NNNNNN] subject tag.
A reply to a case finished more than EMAIL_REOPEN_DAYS ago opens a new case linked
to the old one; a newer one reopens it. Machine-sent mail (out-of-office, bounces)
is kept on the case it answers but never reopens it and never gets a receipt.

Threading finds a case; only the case's contact writes on it. Mail that names a case
by any of the three but comes from another address (a stranger quoting a reference,
a spouse the citizen forwarded our reply to) opens a new case linked to the named
one, and the routing log says so: a case's conversation, and whether it reopens, is
never in the hands of whoever learns its reference. One exception: machine-sent mail
(an out-of-office, a bounce) answering our own signed Message-ID stays on the case,
since the id proves it answers our mail and such mail never reopens a case.
"""

import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email import quarantine as quarantine_service
from citizencenter.channels.email.autoreply import acknowledgement_refusal
from citizencenter.channels.email.message_ids import SIGNED, find_case_reference
from citizencenter.channels.email.models import EmailAttachment, EmailKind, EmailMessage
from citizencenter.channels.email.parsing import (
    EmailError,
    MessageTooLarge,
    ParsedEmail,
    parse_message,
)
from citizencenter.channels.email.settings import own_addresses, signing_secrets
from citizencenter.db import utcnow
from citizencenter.errors import AppError
from citizencenter.privacy import service as privacy
from citizencenter.routing import decisions

log = logging.getLogger(__name__)
MAIL_ACTOR = Principal(actor="system:email", scopes=frozenset({"*"}))
NO_SUBJECT = "(inget ämne)"
FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class EmailTooLarge(AppError):
    status, title, slug = 413, "Message too large", "email-too-large"


class UnreadableEmail(AppError):
    status, title, slug = 422, "Unreadable e-mail", "unreadable-email"


@dataclass
class Outcome:
    """What became of one inbound message."""

    status: str  # stored | duplicate | quarantined
    case: Case | None = None
    message: Message | None = None
    new_case: bool = False
    threaded_by: str | None = None
    acknowledgement: str | None = None  # "queued", or why none is sent
    quarantine_id: int | None = None
    quarantine_reason: str | None = None

    @property
    def case_id(self) -> uuid.UUID | None:
        return self.case.id if self.case else None

    @property
    def case_reference(self) -> str | None:
        return self.case.reference if self.case else None

    @property
    def message_id(self) -> int | None:
        return self.message.id if self.message else None


def parse(raw: bytes, config: Mapping) -> ParsedEmail:
    return parse_message(raw, max_attachment_bytes=config["EMAIL_MAX_ATTACHMENT_BYTES"],
                         max_total_bytes=config["EMAIL_MAX_MESSAGE_BYTES"])


def receive(session: Session, raw: bytes, config: Mapping) -> Outcome:
    """Store one raw RFC 5322 message posted to the API, or quarantine it if storing fails."""
    try:
        parsed = parse(raw, config)
    except MessageTooLarge:
        raise EmailTooLarge("The message exceeds EMAIL_MAX_MESSAGE_BYTES.") from None
    except EmailError as exc:
        raise UnreadableEmail(f"Not an RFC 5322 message: {exc}.") from None
    try:
        outcome = store(session, parsed, config)
        session.commit()
    except Exception as exc:  # kept for an administrator rather than lost or a 500
        session.rollback()
        row = quarantine_service.quarantine(session, raw, size=len(raw),
                                            reason=quarantine_service.PROCESSING_ERROR,
                                            detail=type(exc).__name__, error=exc)
        session.commit()
        return Outcome("quarantined", quarantine_id=row.id, quarantine_reason=row.reason)
    return outcome


def store(session: Session, parsed: ParsedEmail, config: Mapping, *,
          mailbox: str | None = None) -> Outcome:
    """Add one parsed message to its case or a new one (the caller commits)."""
    duplicate = _known(session, parsed)
    if duplicate is not None:
        return duplicate
    refusal = acknowledgement_refusal(parsed, own_addresses(config))
    email = EmailMessage(
        kind=EmailKind.INBOUND, dedupe_key=parsed.dedupe_key, message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to, reference_ids=parsed.references,
        # The text and subject go to the case masked (cases.identity); these copies too.
        subject=privacy.mask(parsed.subject)[0][:998],
        from_address=_address(parsed.from_address),
        to_address=_address(next(iter(parsed.to), None)), html=privacy.mask(parsed.html)[0],
        mailbox=mailbox,
        ack_refusal=refusal)
    try:
        with session.begin_nested():  # the unique dedupe_key decides a concurrent race
            session.add(email)
    except IntegrityError:
        return _known(session, parsed) or Outcome("duplicate")
    case, threaded_by = _find_case(session, parsed, config)
    now, linked, new_case = utcnow(), None, False
    machine_sent = parsed.auto_submitted_reason is not None
    stranger = case is not None and not _from_contact(case, parsed) \
        and not (machine_sent and threaded_by == SIGNED)
    if case is not None and (stranger or not machine_sent and _finished_before(
            case, now - timedelta(days=config["EMAIL_REOPEN_DAYS"]))):
        linked, case = case, None
    if case is None:
        case = cases.add_case(
            session, MAIL_ACTOR, channel=Channel.EMAIL,
            subject=(" ".join(parsed.subject.split()) or NO_SUBJECT)[:300], description="",
            contact=_contact(parsed), received_at=now,
            linked_case_id=linked.id if linked else None)
        new_case = True
        if stranger:
            _record_foreign_sender(session, case, linked, threaded_by)
    email.case_id, email.threaded_by = case.id, None if new_case else threaded_by
    metadata = _metadata(session, email, case, parsed, linked)
    if new_case or machine_sent:
        # A new case's first message, like add_case's; machine mail never reopens a case.
        message = Message(case=case, direction=Direction.INBOUND, channel=Channel.EMAIL,
                          body=parsed.text, channel_metadata=metadata, created_at=now)
        session.add(message)
        session.flush()
        audit.record(session, MAIL_ACTOR.actor, "message.added", "case", case.id,
                     message_id=message.id, direction=Direction.INBOUND.value)
    else:
        message = cases.append_message(session, MAIL_ACTOR, case.id,
                                       direction=Direction.INBOUND, body=parsed.text,
                                       channel_metadata=metadata)
        message.channel = Channel.EMAIL
    email.conversation_message_id = message.id
    acknowledgement = refusal or ("queued" if new_case else "follow-up")
    if new_case and refusal is None and case.contact and case.contact.email:
        outbox.enqueue(session, "email.acknowledge", {"case_id": str(case.id)})
    elif new_case and refusal is None:
        acknowledgement = "no-address"
    session.flush()
    return Outcome("stored", case, message, new_case, email.threaded_by, acknowledgement)


def _known(session: Session, parsed: ParsedEmail) -> Outcome | None:
    """The outcome of a message stored before, or of our own mail coming back."""
    found = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == parsed.dedupe_key))
    if found is None and parsed.message_id:
        found = session.scalar(select(EmailMessage).where(
            EmailMessage.message_id == parsed.message_id,
            EmailMessage.kind != EmailKind.INBOUND).limit(1))
    if found is None:
        return None
    case = session.get(Case, found.case_id) if found.case_id else None
    message = session.get(Message, found.conversation_message_id) \
        if found.conversation_message_id else None
    return Outcome("duplicate", case, message, threaded_by=found.threaded_by)


def _find_case(session: Session, parsed: ParsedEmail, config: Mapping
               ) -> tuple[Case | None, str | None]:
    def lookup(ids: list[str]) -> str | None:
        rows = session.execute(select(EmailMessage.message_id, Case.reference)
                               .join(Case, EmailMessage.case_id == Case.id)
                               .where(EmailMessage.message_id.in_(ids))).all()
        known = dict(rows)
        return next((known[i] for i in ids if i in known), None)

    resolved = find_case_reference(parsed, signing_secrets(config)).resolve(lookup)
    if resolved is None:
        return None, None
    source, reference = resolved
    case = session.scalar(select(Case).where(Case.reference == reference))
    return (case, source) if case is not None else (None, None)


def _from_contact(case: Case, parsed: ParsedEmail) -> bool:
    sender = (parsed.from_address or "").strip().lower()
    known = (case.contact.email or "").strip().lower() if case.contact else ""
    return bool(sender) and sender == known


def _record_foreign_sender(session: Session, case: Case, named: Case, threaded_by: str | None
                           ) -> None:
    """Say in the routing log and the audit why a reply became a case of its own."""
    detail = {"linked_case_id": str(named.id), "threaded_by": threaded_by}
    decisions.record(session, case, "linked", "sender_not_contact", actor=MAIL_ACTOR.actor,
                     **detail)
    audit.record(session, MAIL_ACTOR.actor, "case.linked", "case", case.id,
                 reason="sender_not_contact", **detail)
    log.info("e-mail naming case %s came from another address than its contact: new case %s",
             named.reference, case.reference)


def _finished_before(case: Case, cutoff) -> bool:
    finished_at = case.closed_at or case.resolved_at
    return case.status in FINISHED and finished_at is not None and finished_at < cutoff


def _address(address: str | None) -> str | None:
    return address if address and len(address) <= 254 else None


def _contact(parsed: ParsedEmail) -> dict | None:
    address = _address(parsed.from_address)
    if address is None:
        return None
    return {"email": address, **({"name": parsed.from_name[:200]} if parsed.from_name else {})}


def _metadata(session: Session, email: EmailMessage, case: Case, parsed: ParsedEmail,
              linked: Case | None) -> dict:
    """The kept headers and a descriptor per attachment, stored with their content."""
    rows = [EmailAttachment(
        email_id=email.id, case_id=case.id, filename=a.filename,
        declared_type=a.declared_type[:255], detected_type=a.detected_type, size=a.size,
        inline=a.inline, content_id=(a.content_id or "")[:300] or None,
        rejected_reason=a.rejected_reason, content=a.content,
        sha256=hashlib.sha256(a.content).hexdigest() if a.content is not None else None)
        for a in parsed.attachments]
    session.add_all(rows)
    session.flush()
    metadata = {
        "email_id": email.id, "headers": parsed.headers, "has_html": parsed.html is not None,
        "attachments": [{"id": r.id, "filename": r.filename, "content_type": r.detected_type,
                         "declared_type": r.declared_type, "size": r.size, "inline": r.inline,
                         "content_id": r.content_id, "rejected_reason": r.rejected_reason}
                        for r in rows],
    }
    if parsed.defects:
        metadata["defects"] = parsed.defects
    if parsed.auto_submitted_reason:
        metadata["auto_submitted"] = parsed.auto_submitted_reason
    if email.threaded_by:
        metadata["threaded_by"] = email.threaded_by
    if linked is not None:
        metadata["linked_case"] = {
            "id": str(linked.id), "reference": linked.reference,
            "reason": "finished" if _from_contact(linked, parsed) else "sender_not_contact"}
    return metadata
