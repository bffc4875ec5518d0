"""What a citizen sees of their case through its link, and what they may add to it.

Public on the page: the reference, the status in plain Swedish, the received date and the
public notes: status changes, the replies actually sent to the citizen (delivered), and
the messages they wrote here themselves. Never internal notes, forwards, departments or
who handles the case. For a contact with a protected identity only what was sent to them
is shown (the reference, the status and the delivered replies), no status history.

A message from the page is an inbound message on the case's channel, as if the citizen had
written again: it reopens a resolved or closed case. Its personnummer are masked when it
is stored (cases.identity), like every message's.
"""

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import keys
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import confidentiality, delivery
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.citizen_view import links
from citizencenter.citizen_view.models import CitizenLinkRevocation
from citizencenter.db import utcnow
from citizencenter.errors import AppError, InvalidInput

CITIZEN = Principal(actor="public:citizen-view", scopes=frozenset())
MAX_MESSAGE_LENGTH = 5000
FORM_SALT = "citizen-view-form"
FORM_MAX_AGE_S = 4 * 3600
# Control characters but tab and newline: nothing a person types into a text box.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class FormExpired(AppError):
    """The page's form token is missing, forged or old: load the page again."""

    status, title, slug = 400, "Form expired", "citizen-form-expired"


@dataclass(frozen=True)
class Note:
    at: datetime
    kind: str  # "status" (status: the new one), "reply" (from us), "own" (the citizen's)
    status: CaseStatus | None = None
    body: str | None = None


@dataclass(frozen=True)
class CitizenView:
    reference: str
    status: CaseStatus
    received_at: datetime
    notes: list[Note] = field(default_factory=list)
    protected: bool = False


def open_case(session: Session, config: Mapping, token: str,
              now: datetime | None = None) -> Case:
    """The case a link names, while the link works; LinkInvalid (404) or LinkGone (410)."""
    case_id, issued = links.read_token(config, token, now)
    revoked = revoked_at(session, case_id)
    if revoked is not None and issued <= revoked:
        raise links.LinkGone("Länken har återkallats.")
    case = session.get(Case, case_id)
    if case is None:  # erased (gallrad), or never ours
        raise links.LinkInvalid("Länken är inte giltig.")
    return case


def view(session: Session, config: Mapping, token: str, now: datetime | None = None
         ) -> CitizenView:
    """What the link's holder sees; reads only (a GET writes nothing)."""
    case = open_case(session, config, token, now)
    protected = case.contact is not None and case.contact.protection is not None
    messages = list(session.scalars(select(Message).where(
        Message.case_id == case.id, Message.direction.in_([Direction.OUTBOUND,
                                                           Direction.INBOUND]))
        .order_by(Message.created_at, Message.id)))
    sent = delivery.deliveries(session, messages)
    notes = []
    for message in messages:
        metadata = message.channel_metadata or {}
        if message.direction == Direction.OUTBOUND and not metadata.get("auto") \
                and message.id in sent and sent[message.id].state == delivery.SENT:
            notes.append(Note(sent[message.id].sent_at or message.created_at, "reply",
                              body=message.body))
        elif message.direction == Direction.INBOUND and metadata.get("citizen_view"):
            notes.append(Note(message.created_at, "own", body=message.body))
    if not protected:
        for entry in session.scalars(select(AuditEntry).where(
                AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case.id),
                AuditEntry.action == "case.status_changed").order_by(AuditEntry.id)):
            status = (entry.data or {}).get("to")
            if status in CaseStatus.__members__.values():
                notes.append(Note(entry.occurred_at, "status", status=CaseStatus(status)))
    notes.sort(key=lambda note: note.at, reverse=True)
    session.rollback()  # end the read: on SQLite an open read holds up writers
    return CitizenView(reference=case.reference, status=case.status,
                       received_at=case.received_at, notes=notes, protected=protected)


def form_token(config: Mapping, token: str) -> str:
    """The page's CSRF token: bound to the link (no session), signed, a few hours valid."""
    serializer = URLSafeTimedSerializer(keys.serializer_keys(config, FORM_SALT), salt=FORM_SALT)
    return serializer.dumps(_link_digest(token))


def _check_form_token(config: Mapping, token: str, value: str | None) -> None:
    serializer = URLSafeTimedSerializer(keys.serializer_keys(config, FORM_SALT), salt=FORM_SALT)
    try:
        digest = serializer.loads(value or "", max_age=FORM_MAX_AGE_S)
    except BadSignature:
        raise FormExpired("Sidan är för gammal. Ladda om den och skicka igen.") from None
    if not isinstance(digest, str) or not hmac.compare_digest(digest, _link_digest(token)):
        raise FormExpired("Sidan är för gammal. Ladda om den och skicka igen.")


def _link_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def clean_message(text: str | None) -> str:
    """The citizen's text as plain text: control characters out, line ends normalised;
    InvalidInput when empty or too long."""
    body = _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not body:
        raise InvalidInput("message", "Skriv ett meddelande.")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise InvalidInput("message", f"Meddelandet får vara högst {MAX_MESSAGE_LENGTH} "
                                      "tecken.")
    return body


def add_message(session: Session, config: Mapping, token: str, text: str | None,
                form_token_value: str | None, now: datetime | None = None) -> Message:
    """The citizen writes on their case: an inbound message that reopens it if finished."""
    _check_form_token(config, token, form_token_value)
    case = open_case(session, config, token, now)
    body = clean_message(text)
    message = cases.append_message(session, CITIZEN, case.id, direction=Direction.INBOUND,
                                   body=body, channel_metadata={"citizen_view": True})
    session.commit()
    return message


def revoked_at(session: Session, case_id: uuid.UUID) -> datetime | None:
    """Until when the case's links are refused, if staff revoked them."""
    revocation = session.get(CitizenLinkRevocation, case_id)
    return revocation.revoked_at if revocation is not None else None


def revoke(session: Session, actor: Principal, case_id: uuid.UUID) -> datetime:
    """Refuse every link to the case issued until now (staff; audited).

    On a confidential case only those who read it decide to cut the citizen off from it.
    """
    case = cases.get_case(session, actor, case_id)
    confidentiality.require_content(actor, case, "revoking the citizen's links")
    now = utcnow()
    revocation = session.get(CitizenLinkRevocation, case.id)
    if revocation is None:
        session.add(CitizenLinkRevocation(case_id=case.id, revoked_at=now,
                                          revoked_by=actor.actor))
    else:
        revocation.revoked_at, revocation.revoked_by = now, actor.actor
    audit.record(session, actor.actor, "case.citizen_link_revoked", "case", case.id)
    session.commit()
    return now
