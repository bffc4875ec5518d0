"""Outbound e-mail: a guide's reply and the automatic acknowledgement, each sent once.

Each is first recorded (EmailMessage with its rendered bytes and signed Message-ID,
unique per reply or per case) and committed; then sent by `_deliver`:

1. claim: one conditional UPDATE sets sending_at where neither sending_at nor sent_at
   is set, and commits. Only the claimant talks to the SMTP server.
2. send over SMTP. When the server refuses or cannot be reached (MailNotSent) nothing
   was delivered: the claim is released and the task retries the same bytes later.
3. record sent_at and commit.

A crash between 1 and 3 (worker killed mid-transaction, database gone after the
server accepted) leaves sending_at without sent_at: delivery is unknown, and the
message is *not* sent again automatically (at most once; the reply is marked
"uncertain" for a person to check). A retry after a refused attempt re-sends the same
Message-ID, so a receiving system that did get it can recognise the copy.
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from email import message_from_bytes

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citizencenter import mailer
from citizencenter.cases.enums import Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.autoreply import (
    OUTBOUND_POLICY,
    acknowledgement_text,
    build_acknowledgement_to,
    build_reply,
)
from citizencenter.channels.email.models import AcknowledgedSender, EmailKind, EmailMessage
from citizencenter.channels.email.parsing import normalise_message_id
from citizencenter.channels.email.settings import centre_sender, own_addresses, signing_secrets
from citizencenter.citizen_view.links import link_for_case
from citizencenter.db import insert_if_absent, utcnow

log = logging.getLogger(__name__)
# The longest wait between two tries (the tasks' retry_backoff_max): a mail not tried for
# longer than this lost its retry, e.g. with the broker's data, and reconciliation re-drives it.
RETRY_BACKOFF_MAX_S = 900


def send_reply(session: Session, message_id: int, config: Mapping) -> str:
    """Send a guide's outbound message on an e-mail case to the citizen; never twice."""
    email = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == f"reply:{message_id}"))
    if email is None:
        message = session.get(Message, message_id)
        if message is None or message.direction != Direction.OUTBOUND:
            session.rollback()
            return "no-message"
        contact = message.case.contact
        if contact is None or not contact.email:
            _set_status(message, "no-address")
            session.commit()
            return "no-address"
        parent = _last_inbound(session, message.case)
        name, address = centre_sender(config)
        mime = build_reply(
            case_reference=message.case.reference, body=message.body,
            original_subject=parent.subject if parent else message.case.subject,
            citizen_address=contact.email, citizen_name=contact.name,
            in_reply_to=parent.message_id if parent else None,
            references=parent.reference_ids if parent else [], centre_address=address,
            centre_name=name, secret=signing_secrets(config)[0], domain=config["MAIL_DOMAIN"])
        email = _record(session, EmailKind.REPLY, f"reply:{message_id}", message, mime)
        if email is None:  # recorded by a concurrent run
            return send_reply(session, message_id, config)
        session.commit()
    return _deliver(session, email.id, config)


def send_acknowledgement(session: Session, case_id: uuid.UUID, config: Mapping) -> str:
    """Send the Swedish receipt for a case to its contact, unless refused; never twice."""
    email = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == f"ack:{case_id}"))
    if email is None:
        case = session.get(Case, case_id)
        refusal = _ack_refusal(session, case, config)
        if refusal is not None:
            session.rollback()
            log.info("no acknowledgement for case %s: %s", case_id, refusal)
            return refusal
        inbound = _first_inbound(session, case)
        name, address = centre_sender(config)
        mime = build_acknowledgement_to(
            citizen_address=case.contact.email, citizen_name=case.contact.name,
            subject=inbound.subject if inbound else case.subject,
            in_reply_to=inbound.message_id if inbound else None,
            references=inbound.reference_ids if inbound else [],
            case_reference=case.reference, response_time_text=config["EMAIL_ACK_RESPONSE_TIME"],
            centre_address=address, centre_name=name, secret=signing_secrets(config)[0],
            domain=config["MAIL_DOMAIN"], citizen_link=link_for_case(config, case.id))
        # Shown in the conversation, but no person wrote it: never a response (sla service).
        message = Message(case=case, direction=Direction.OUTBOUND, channel=case.channel,
                          body=acknowledgement_text(case.reference,
                                                    config["EMAIL_ACK_RESPONSE_TIME"], name),
                          channel_metadata={"auto": True, "kind": "acknowledgement"},
                          created_at=utcnow())
        session.add(message)
        email = _record(session, EmailKind.ACKNOWLEDGEMENT, f"ack:{case_id}", message, mime)
        if email is None:
            return send_acknowledgement(session, case_id, config)
        if not _claim_sender(session, case.contact.email,
                             timedelta(hours=config["EMAIL_ACK_INTERVAL_H"])):
            session.rollback()
            return "recently-acknowledged"
        session.commit()
    return _deliver(session, email.id, config)


def _ack_refusal(session: Session, case: Case | None, config: Mapping) -> str | None:
    if case is None:
        return "no-case"
    if case.contact is None or not case.contact.email:
        return "no-address"
    if case.contact.protection is not None:
        return "protected-identity"  # a receipt could reveal the case at the wrong address
    if case.contact.email.lower() in own_addresses(config):
        return "own-address"
    inbound = _first_inbound(session, case)
    return inbound.ack_refusal if inbound else None


def _claim_sender(session: Session, address: str, interval: timedelta) -> bool:
    """Take this address's one receipt per interval; atomic on both engines."""
    now = utcnow()
    created = session.scalar(insert_if_absent(session, AcknowledgedSender, "address").values(
        address=address.lower(), last_sent_at=now).returning(AcknowledgedSender.address))
    if created is not None:
        return True
    renewed = session.execute(update(AcknowledgedSender).where(
        AcknowledgedSender.address == address.lower(),
        AcknowledgedSender.last_sent_at <= now - interval).values(last_sent_at=now))
    return renewed.rowcount == 1


def _record(session: Session, kind: EmailKind, dedupe_key: str, message: Message, mime
            ) -> EmailMessage | None:
    """Keep the rendered mail before sending it; None when another run recorded it first."""
    session.flush()
    email = EmailMessage(
        kind=kind, dedupe_key=dedupe_key, case_id=message.case_id,
        conversation_message_id=message.id, message_id=normalise_message_id(mime["Message-ID"]),
        in_reply_to=normalise_message_id(mime["In-Reply-To"]),
        reference_ids=[i.strip("<>") for i in str(mime["References"] or "").split()],
        subject=str(mime["Subject"])[:998],
        from_address=mime["From"].addresses[0].addr_spec.lower(),
        to_address=mime["To"].addresses[0].addr_spec.lower(), raw=mime.as_bytes())
    try:
        with session.begin_nested():
            session.add(email)
    except IntegrityError:
        session.rollback()
        return None
    _set_status(message, "queued", email)
    return email


def _deliver(session: Session, email_id: int, config: Mapping) -> str:
    claimed = session.execute(update(EmailMessage).where(
        EmailMessage.id == email_id, EmailMessage.sent_at.is_(None),
        EmailMessage.sending_at.is_(None), EmailMessage.failed_at.is_(None)).values(
        sending_at=utcnow(), attempted_at=utcnow(),
        attempts=EmailMessage.attempts + 1)).rowcount
    session.commit()
    email = session.get(EmailMessage, email_id, populate_existing=True)
    if not claimed:
        if email.sent_at is not None:
            return "already-sent"
        if email.failed_at is not None:
            return "failed"
        if email.sending_at > utcnow() - _sending_lease(config):
            return "in-progress"  # a second delivery of the task: the first one decides
        log.warning("e-mail %s: an earlier attempt was interrupted while sending; "
                    "not sent again", email_id)
        _set_status(_conversation_message(session, email), "uncertain", email)
        session.commit()
        return "uncertain"
    try:
        mailer.send(message_from_bytes(email.raw, policy=OUTBOUND_POLICY), config)
    except mailer.MailNotSent as exc:
        email.sending_at, email.last_error = None, str(exc)[:200]
        session.commit()
        raise
    email.sent_at, email.last_error = utcnow(), None
    _set_status(_conversation_message(session, email), "sent", email)
    session.commit()
    return "sent"


def _sending_lease(config: Mapping) -> timedelta:
    # Longer than one SMTP conversation can last; a claim older than this was interrupted.
    return timedelta(seconds=3 * config["SMTP_TIMEOUT_S"])


def give_up(session: Session, kind: EmailKind, key: int | uuid.UUID, reason: str,
            config: Mapping) -> str:
    """After the last retry: mark the reply (message id) or receipt (case id) failed, on the
    case where a guide sees it; it is never sent, and reconciliation leaves it alone."""
    dedupe_key = f"reply:{key}" if kind == EmailKind.REPLY else f"ack:{key}"
    email = session.scalar(select(EmailMessage).where(EmailMessage.dedupe_key == dedupe_key))
    if email is None:  # it failed before it could be recorded, e.g. an unusable address
        message = session.get(Message, key) if kind == EmailKind.REPLY \
            else _acknowledgement_message(session, key, config)
        if message is None:
            session.rollback()
            return "no-message"
        session.add(message)
        session.flush()
        email = EmailMessage(kind=kind, dedupe_key=dedupe_key, case_id=message.case_id,
                             conversation_message_id=message.id)
        session.add(email)
    elif email.sent_at is not None or email.sending_at is not None:
        session.rollback()  # sent, or its delivery is uncertain: not a failure to record
        return "not-failed"
    email.failed_at, email.last_error = utcnow(), reason[:200]
    _set_status(_conversation_message(session, email), "failed", email, reason=reason[:200])
    session.commit()
    log.warning("e-mail %s (%s) given up after the last retry", email.id, kind.value)
    return "failed"


def _acknowledgement_message(session: Session, case_id: uuid.UUID, config: Mapping
                             ) -> Message | None:
    case = session.get(Case, case_id)
    if case is None:
        return None
    name, _ = centre_sender(config)
    return Message(case=case, direction=Direction.OUTBOUND, channel=case.channel,
                   body=acknowledgement_text(case.reference, config["EMAIL_ACK_RESPONSE_TIME"],
                                             name),
                   channel_metadata={"auto": True, "kind": "acknowledgement"},
                   created_at=utcnow())


def _conversation_message(session: Session, email: EmailMessage) -> Message | None:
    if email.conversation_message_id is None:
        return None
    return session.get(Message, email.conversation_message_id)


def _set_status(message: Message | None, status: str, email: EmailMessage | None = None,
                reason: str | None = None) -> None:
    """Show the guide what became of the mail, in the message's channel_metadata."""
    if message is None:
        return
    details: dict = {"status": status}
    if reason is not None:
        details["reason"] = reason
    if email is not None:
        details["message_id"] = email.message_id
        if email.sent_at is not None:
            details["sent_at"] = email.sent_at.isoformat()
        if email.failed_at is not None:
            details["failed_at"] = email.failed_at.isoformat()
    message.channel_metadata = {**(message.channel_metadata or {}), "email": details}


def _last_inbound(session: Session, case: Case) -> EmailMessage | None:
    return session.scalar(select(EmailMessage).where(
        EmailMessage.case_id == case.id, EmailMessage.kind == EmailKind.INBOUND)
        .order_by(EmailMessage.id.desc()).limit(1))


def _first_inbound(session: Session, case: Case) -> EmailMessage | None:
    return session.scalar(select(EmailMessage).where(
        EmailMessage.case_id == case.id, EmailMessage.kind == EmailKind.INBOUND)
        .order_by(EmailMessage.id).limit(1))

