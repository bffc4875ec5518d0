"""Conversations with citizens on Messenger and Instagram, their messages and our replies."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citizencenter.db import Base, str_enum, utcnow


class SocialConversation(Base):
    """One citizen writing to one page or Instagram account; it has one current case."""

    __tablename__ = "social_conversations"
    __table_args__ = (UniqueConstraint("platform", "page_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # messenger | instagram
    page_id: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[str] = mapped_column(String(64))  # page- or account-scoped id
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id",
                                                              ondelete="SET NULL"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime | None]


class SocialMessage(Base):
    """A message event exactly as Meta delivered it; `mid` makes a repeat a no-op."""

    __tablename__ = "social_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    mid: Mapped[str] = mapped_column(String(255), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("social_conversations.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id",
                                                              ondelete="SET NULL"))
    sent_at: Mapped[datetime]  # Meta's timestamp
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw: Mapped[dict] = mapped_column(JSON)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not sent yet, or Meta asked us to try again later
    SENDING = "sending"  # a worker is posting a part right now
    SENT = "sent"
    FAILED = "failed"  # Meta refused it, or there is nobody to send it to
    UNCERTAIN = "uncertain"  # a post got no answer; never repeated, a guide checks


class SocialDelivery(Base):
    """Sending one outbound message: which parts reached Meta, so none goes out twice."""

    __tablename__ = "social_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, 16),
                                                   default=DeliveryStatus.PENDING)
    parts_sent: Mapped[int] = mapped_column(default=0)
    meta_message_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
