"""E-mail as received and sent: the messages, their files, quarantine and mailbox positions."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from citizencenter.db import Base, str_enum, utcnow


class EmailKind(StrEnum):
    INBOUND = "inbound"
    REPLY = "reply"  # a guide's answer
    ACKNOWLEDGEMENT = "acknowledgement"  # the automatic receipt


# Outbound mail neither sent nor given up yet: queued, or between retries.
UNSENT = "kind <> 'inbound' AND sent_at IS NULL AND failed_at IS NULL"


class EmailMessage(Base):
    """One e-mail on a case, inbound or outbound; the index threading looks ids up in.

    dedupe_key is unique: an inbound message's Message-ID (or "sha256:" of its content
    when it has none), "reply:<message id>" or "ack:<case id>" for what we send, so a
    message polled twice, a reply task run twice or a second receipt cannot be stored.
    Outbound mail is rendered once into `raw`, so a retry sends the very same bytes.
    """

    __tablename__ = "email_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EmailKind] = mapped_column(str_enum(EmailKind, 16))
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    conversation_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)  # no brackets
    in_reply_to: Mapped[str | None] = mapped_column(String(300))
    reference_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # References
    subject: Mapped[str] = mapped_column(String(998), default="")
    from_address: Mapped[str | None] = mapped_column(String(254))
    to_address: Mapped[str | None] = mapped_column(String(254))
    html: Mapped[str | None] = mapped_column(Text)  # sanitised
    mailbox: Mapped[str | None] = mapped_column(String(64))  # None: posted to the API
    threaded_by: Mapped[str | None] = mapped_column(String(32))
    ack_refusal: Mapped[str | None] = mapped_column(String(32))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # outbound only
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sending: claimed (sending_at) before the SMTP transaction, sent_at after it.
    sending_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]  # the last try, refused or not
    failed_at: Mapped[datetime | None]  # given up after the last retry; never sent
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))

    # The dashboard counts today's mail given up; /metrics also what is sent today and what
    # waits to be sent.
    __table_args__ = (Index("ix_email_messages_failed_at", "failed_at",
                            postgresql_where=text("failed_at IS NOT NULL"),
                            sqlite_where=text("failed_at IS NOT NULL")),
                      Index("ix_email_messages_sent_at", "sent_at",
                            postgresql_where=text("sent_at IS NOT NULL"),
                            sqlite_where=text("sent_at IS NOT NULL")),
                      Index("ix_email_messages_unsent", "created_at",
                            postgresql_where=text(UNSENT), sqlite_where=text(UNSENT)))


class EmailAttachment(Base):
    """A file from an inbound message; refused ones are recorded without content."""

    __tablename__ = "email_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("email_messages.id", ondelete="CASCADE"),
                                          index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(255))
    detected_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    inline: Mapped[bool] = mapped_column(default=False)
    content_id: Mapped[str | None] = mapped_column(String(300))
    rejected_reason: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)


class QuarantinedEmail(Base):
    """Mail that could not be stored as a case message, kept for an administrator.

    Unique per IMAP position so a poll that runs again never quarantines twice.
    """

    __tablename__ = "quarantined_emails"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),
                      Index("ix_quarantined_emails_received_at", "received_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str | None] = mapped_column(String(64))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(300))  # never addresses or text
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when too large to keep
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What went wrong, for the administrator who fixes it: kept here, never in a log line,
    # since an exception's message may quote the mail (as `raw` does).
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    retried_at: Mapped[datetime | None]  # the last time an administrator re-processed it
    stored_at: Mapped[datetime | None]  # when a re-processing stored it on a case
    # The case it was stored on: erasing that case drops the kept mail by this id, without
    # opening anyone else's sealed mail to look for it.
    stored_case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True)


class MailboxState(Base):
    """How far a polled IMAP folder has been read: UIDVALIDITY and the last UID done."""

    __tablename__ = "mailbox_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    locked_until: Mapped[datetime | None]  # a poll's lease, so two never overlap
    last_polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class AcknowledgedSender(Base):
    """When an address last got an automatic acknowledgement (one per 24 hours)."""

    __tablename__ = "acknowledged_senders"

    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    last_sent_at: Mapped[datetime]
