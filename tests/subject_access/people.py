"""Two citizens with data of every kind: what the export must hold, and must not mix."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseKind, CaseStatus, Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.models import (
    AcknowledgedSender,
    EmailAttachment,
    EmailKind,
    EmailMessage,
)
from citizencenter.channels.phone.models import Call, CallEvent, CallEventType, CallOutcome
from citizencenter.channels.social.models import SocialConversation, SocialMessage
from citizencenter.contacts.models import ContactIdentity
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.privacy.detection import identity_number


def number(date8: str, serial: str) -> str:
    """A valid number of that date and serial: the library's check digit."""
    return next(f"{date8}-{serial}{c}" for c in range(10)
                if identity_number(f"{date8}-{serial}{c}"))


@dataclass
class Citizen:
    """What was stored for one person, to look for in the export."""

    tag: str
    email: str
    phone: str  # E.164
    phone_national: str
    personnummer: str
    psid: str
    attachment: bytes
    cases: list[Case] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)  # kind of data -> a unique text
    call_id: str = ""


def make_citizen(session, tag: str, serial: str, phone_tail: str, *,
                 status: CaseStatus = CaseStatus.CLOSED) -> Citizen:
    """One citizen with an e-mail case (attachment, reply, note, feedback), a phone call on
    a callback case, a Messenger conversation and an acknowledgement."""
    person = Citizen(
        tag=tag, email=f"{tag}.medborgare@example.se", phone=f"+4670123{phone_tail}",
        phone_national=f"070-123 {phone_tail[:2]} {phone_tail[2:]}",
        personnummer=number("19800101", serial), psid=f"psid-{tag}-{uuid.uuid4().hex[:6]}",
        attachment=f"%PDF-1.4 ritning {tag} ".encode() + bytes(range(256)))
    w = person.words = {k: f"{k}-{tag}-{uuid.uuid4().hex[:8]}" for k in (
        "subject", "body", "note", "reply", "html", "social", "walkin")}
    mail_case = cases.add_case(
        session, SYSTEM, channel=Channel.EMAIL, subject=w["subject"],
        description=f"{w['body']} mitt personnummer är {person.personnummer}",
        category="bygglov",
        contact={"name": f"Medborgare {tag}", "email": person.email, "phone": person.phone})
    contact = mail_case.contact
    contact.identities.append(ContactIdentity(kind="messenger", value=person.psid))
    session.add_all([
        Message(case=mail_case, direction=Direction.INTERNAL, channel=Channel.EMAIL,
                body=w["note"]),
        Message(case=mail_case, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                body=w["reply"]),
    ])
    inbound = EmailMessage(kind=EmailKind.INBOUND, dedupe_key=f"<in-{w['body']}>",
                           case_id=mail_case.id, message_id=f"in-{w['body']}@example.se",
                           subject=w["subject"], from_address=person.email,
                           to_address="kontaktcenter@lund.example", html=f"<p>{w['html']}</p>")
    outbound = EmailMessage(kind=EmailKind.REPLY, dedupe_key=f"reply:{w['reply']}",
                            case_id=mail_case.id, subject=f"Re: {w['subject']}",
                            from_address="kontaktcenter@lund.example",
                            to_address=person.email,
                            raw=f"Subject: Re\r\n\r\n{w['reply']}\r\n".encode())
    session.add_all([inbound, outbound])
    session.flush()
    session.add(EmailAttachment(email_id=inbound.id, case_id=mail_case.id,
                                filename=f"../ritning {tag}.pdf", declared_type="application/pdf",
                                detected_type="application/pdf", size=len(person.attachment),
                                content=person.attachment))
    now = datetime.now(UTC)
    request = FeedbackRequest(case_id=mail_case.id, channel="email", nonce=uuid.uuid4().hex,
                              via="email", expires_at=now + timedelta(days=14), sent_at=now)
    session.add(request)
    session.flush()
    session.add(FeedbackResponse(request_id=request.id, case_id=mail_case.id, channel="email",
                                 courtesy=4, ease=5, clarity=3))
    callback = cases.add_case(session, SYSTEM, channel=Channel.PHONE, kind=CaseKind.CALLBACK,
                              subject=f"Ring upp {tag}", description="", contact=contact)
    person.call_id = f"call-{tag}-{uuid.uuid4().hex[:6]}"
    entered = now - timedelta(hours=1)
    session.add_all([
        Call(source="test-pbx", call_id=person.call_id, queue="vaxel", caller=person.phone,
             outcome=CallOutcome.ABANDONED, entered_at=entered, finished_at=entered,
             wait_s=95.0, callback_requested=True, callback_case_id=callback.id,
             local_date=date.today(), local_hour=9),
        CallEvent(source="test-pbx", event_id=f"{person.call_id}-1",
                  type=CallEventType.ABANDONED, occurred_at=entered, call_id=person.call_id,
                  queue="vaxel", caller=person.phone, metrics={"wait_s": 95},
                  raw={"line": f"abandon {person.call_id}"}),
    ])
    conversation = SocialConversation(platform="messenger", page_id="lundkommun",
                                      citizen_id=person.psid, contact_id=contact.id)
    session.add(conversation)
    session.flush()
    session.add(SocialMessage(mid=f"mid-{w['social']}", conversation_id=conversation.id,
                              sent_at=now, raw={"message": {"text": w["social"]}}))
    session.add(AcknowledgedSender(address=person.email, last_sent_at=now))
    for case in (mail_case, callback):
        case.status = status
    session.flush()
    person.cases = [mail_case, callback]
    return person
