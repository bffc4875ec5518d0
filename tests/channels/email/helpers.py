"""Building citizens' mail and running the e-mail outbox topics in the test process."""

import itertools
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select

from citizencenter.channels.email import outbound
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage

_numbers = itertools.count(1)


def citizen_mail(subject: str = "Fråga om bygglov", body: str = "Hej! Behöver jag bygglov?",
                 *, sender: str = "karin.ek@example.se", name: str = "Karin Ek",
                 message_id: str | None = "auto", in_reply_to: str | None = None,
                 references: list[str] | None = None, headers: dict | None = None,
                 attachment: tuple[str, str, bytes] | None = None) -> bytes:
    """A citizen's message as their mail client would send it."""
    # Long enough lines that a signed Message-ID is never folded into encoded words.
    message = EmailMessage(policy=policy.default.clone(max_line_length=998))
    message["From"] = f"{name} <{sender}>"
    message["To"] = "Medborgarcenter <medborgarcenter@lund.example>"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    if message_id == "auto":
        message_id = f"test-{next(_numbers)}-{id(message)}@mail.example.se"
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = " ".join(f"<{r}>" for r in references)
    for header, value in (headers or {}).items():
        message[header] = value
    message.set_content(body)
    if attachment:
        filename, content_type, content = attachment
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def pending(session, topic: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic == topic, OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)))


def run_email_outbox(session, config) -> list[str]:
    """Do what the workers would for the pending e-mail topics; return their results."""
    results = []
    for row in pending(session, "email.acknowledge") + pending(session, "email.send_reply"):
        row.published_at = utcnow()
        session.commit()
        if row.topic == "email.acknowledge":
            results.append(outbound.send_acknowledgement(
                session, uuid.UUID(row.payload["case_id"]), config))
        else:
            results.append(outbound.send_reply(session, row.payload["message_id"], config))
    return results
