"""Meta's webhook in, cases out: every message stored once, one case per conversation.

The signature is checked over the raw body before anything is parsed. Each new message
is stored with its `mid` (unique, so a repeated delivery adds nothing) and put on the
conversation's case in the same transaction: the open case gets it, a case closed
within the reopen window reopens, an older one leaves room for a new case.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import json_input, outbox
from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.social import meta
from citizencenter.channels.social.models import SocialConversation, SocialMessage
from citizencenter.contacts.models import Contact, ContactIdentity
from citizencenter.db import insert_if_absent, is_postgresql, utcnow
from citizencenter.errors import AppError, UnsupportedMediaType
from citizencenter.integrations.signatures import SignatureInvalid, SignatureMissing
from citizencenter.privacy import service as privacy

log = logging.getLogger(__name__)
META = Principal(actor="integration:meta", scopes=frozenset({"cases:write"}))
IDENTITY_KINDS = {"messenger": "messenger_psid", "instagram": "instagram_id"}
PLATFORM_NAMES = {"messenger": "Messenger", "instagram": "Instagram"}
SUBJECT_LENGTH = 80
# The receipt on a new case (SOCIAL_ACKNOWLEDGE=on); the worker adds the link to the
# citizen's view of the case when it sends it (replies.send_reply), so its token is never
# stored in the conversation.
RECEIPT_TEXT = ("Tack för ditt meddelande! Vi har registrerat det med ärendenummer "
                "{reference} och svarar så snart vi kan. Det här är ett automatiskt svar.")


class VerificationFailed(AppError):
    status, title, slug = 403, "Verification failed", "verification-failed"


class PayloadInvalid(AppError):
    status, title, slug = 400, "Invalid webhook payload", "invalid-webhook-payload"


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    echoes: int = 0
    ignored: int = 0


def verify_subscription(args, verify_token: str) -> str:
    """Answer Meta's subscription handshake with hub.challenge, or refuse it."""
    try:
        return meta.verify_subscription(args, verify_token)
    except meta.MetaVerificationFailed as exc:
        raise VerificationFailed(str(exc)) from None


def receive_webhook(session: Session, raw_body: bytes, signature: str | None, mimetype: str,
                    *, app_secret: str, reopen_within: timedelta,
                    acknowledge: bool = False) -> IngestResult:
    """Check a webhook delivery's signature, then file its messages; with `acknowledge`,
    each new case gets a receipt."""
    try:
        meta.verify_signature(raw_body, signature, app_secret)
    except meta.MetaSignatureInvalid as exc:
        raise (SignatureMissing if not signature else SignatureInvalid)(str(exc)) from None
    if mimetype != "application/json":
        raise UnsupportedMediaType("Meta posts application/json.")
    try:
        payload = json_input.loads(raw_body)
        batch = meta.parse_webhook_batch(payload)
    except (ValueError, UnicodeDecodeError):
        raise PayloadInvalid("The body is not valid JSON.") from None
    except meta.MetaPayloadInvalid as exc:
        raise PayloadInvalid(str(exc)) from None
    return ingest(session, batch, _raw_events(payload), reopen_within, acknowledge)


def ingest(session: Session, batch: meta.WebhookBatch, raw: dict[str, dict],
           reopen_within: timedelta, acknowledge: bool = False) -> IngestResult:
    """Store each new message once and put it on its conversation's case."""
    result = IngestResult(ignored=sum(batch.ignored.values()))
    for message in batch.messages:
        if message.is_echo:  # our own replies, or ones sent from Meta's inbox
            result.echoes += 1
            continue
        conversation = _conversation(session, message)
        stored = _store(session, conversation, message, raw.get(message.mid, {}))
        if stored is None:
            result.duplicates += 1
            continue
        _file(session, conversation, stored, message, reopen_within, acknowledge)
        result.accepted += 1
    session.commit()
    log.info("meta webhook: %d new, %d repeated, %d echoes, %d other events",
             result.accepted, result.duplicates, result.echoes, result.ignored)
    return result


def _raw_events(payload: dict) -> dict[str, dict]:
    """Each message event as Meta sent it, by mid (the payload has been validated)."""
    return {event["message"]["mid"]: event
            for entry in payload["entry"] for event in entry.get("messaging", [])
            if isinstance(event.get("message"), dict) and "mid" in event["message"]}


def _conversation(session: Session, message: meta.MetaMessage) -> SocialConversation:
    """The conversation's row, locked: its messages are filed one at a time."""
    platform, page_id, citizen_id = message.conversation_key
    session.execute(insert_if_absent(
        session, SocialConversation, "platform", "page_id", "citizen_id").values(
        platform=platform, page_id=page_id, citizen_id=citizen_id, created_at=utcnow()))
    query = select(SocialConversation).where(
        SocialConversation.platform == platform, SocialConversation.page_id == page_id,
        SocialConversation.citizen_id == citizen_id)
    if is_postgresql(session):
        query = query.with_for_update()
    return session.scalar(query)


def _store(session: Session, conversation: SocialConversation, message: meta.MetaMessage,
           raw: dict) -> SocialMessage | None:
    new_id = session.scalar(insert_if_absent(session, SocialMessage, "mid").values(
        mid=message.mid, conversation_id=conversation.id, sent_at=message.timestamp,
        # Kept as Meta sent it, but for a personnummer in its text: that only masked
        # (the case's message holds the number, sealed, by cases.identity).
        received_at=utcnow(), raw=privacy.mask_json(raw)).returning(SocialMessage.id))
    return session.get(SocialMessage, new_id) if new_id is not None else None


def _contact(session: Session, conversation: SocialConversation) -> Contact:
    if conversation.contact_id is not None:
        contact = session.get(Contact, conversation.contact_id)
        if contact is not None:
            return contact
    kind = IDENTITY_KINDS[conversation.platform]
    identity = session.scalar(select(ContactIdentity).where(
        ContactIdentity.kind == kind, ContactIdentity.value == conversation.citizen_id))
    if identity is not None:
        contact = identity.contact
    else:
        contact = Contact(identities=[ContactIdentity(kind=kind, value=conversation.citizen_id)])
        session.add(contact)
        session.flush()
    conversation.contact_id = contact.id
    return contact


def _body(message: meta.MetaMessage) -> str:
    parts = [message.text.strip()] if message.text and message.text.strip() else []
    parts += [f"[Bilaga: {attachment.type}]" for attachment in message.attachments]
    return "\n".join(parts) or "[Tomt meddelande]"


def _subject(message: meta.MetaMessage) -> str:
    first_line = (message.text or "").strip().split("\n", 1)[0].strip()
    if not first_line:
        return f"Meddelande via {PLATFORM_NAMES[message.platform]}"
    if len(first_line) <= SUBJECT_LENGTH:
        return first_line
    return first_line[:SUBJECT_LENGTH - 1].rstrip() + "…"


def _acknowledge(session: Session, case: Case) -> None:
    """Queue the receipt of a new case; shown in the conversation, but no person wrote it
    (never a response), as the e-mail receipt."""
    receipt = Message(case=case, direction=Direction.OUTBOUND, channel=Channel.SOCIAL,
                      body=RECEIPT_TEXT.format(reference=case.reference),
                      channel_metadata={"auto": True, "kind": "acknowledgement"},
                      created_at=utcnow())
    session.add(receipt)
    session.flush()
    outbox.enqueue(session, "social.reply_added", {"message_id": receipt.id})


def _current_case(session: Session, conversation: SocialConversation,
                  reopen_within: timedelta) -> Case | None:
    """The case a new message joins, or None when it needs a new one."""
    case = session.get(Case, conversation.case_id) if conversation.case_id else None
    if case is None or case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return case
    finished_at = case.closed_at or case.resolved_at or utcnow()
    return case if finished_at >= utcnow() - reopen_within else None


def _file(session: Session, conversation: SocialConversation, stored: SocialMessage,
          message: meta.MetaMessage, reopen_within: timedelta,
          acknowledge: bool = False) -> None:
    metadata = {"platform": message.platform, "mid": message.mid,
                "sent_at": message.timestamp.isoformat(),
                "attachments": [{"type": a.type, "url": a.url} for a in message.attachments]}
    body = _body(message)
    case = _current_case(session, conversation, reopen_within)
    if case is None:
        contact = _contact(session, conversation)
        # Meta's clock may run a little ahead of ours; a case never starts in the future.
        case = cases.add_case(session, META, channel=Channel.SOCIAL, subject=_subject(message),
                              description=body, received_at=min(message.timestamp, utcnow()),
                              channel_metadata=metadata)
        case.contact = contact
        conversation.case_id = case.id
        filed = session.scalar(select(Message).where(Message.case_id == case.id)
                               .order_by(Message.id).limit(1))
        if acknowledge:
            _acknowledge(session, case)
    else:
        # Appending as the citizen reopens a resolved or closed case (cases.service).
        filed = cases.append_message(session, META, case.id, direction=Direction.INBOUND,
                                     body=body, channel_metadata=metadata)
    stored.case_id, stored.message_id = case.id, filed.id
    conversation.last_message_at = message.timestamp
    session.flush()
