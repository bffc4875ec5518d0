import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.db import Base, utcnow


class IdentityNumber(Base):
    """A personnummer found in a case's text, which keeps only its mask.

    `sealed` holds the number encrypted under the "identity-numbers" key; `lookup_hash`
    is its HMAC under the "identity-number-lookup" key, so "the cases of one number" is an
    exact match on an index and the number itself is opened only when revealed.
    `message_id` is None for a number found in the case's subject or contact.
    """

    __tablename__ = "identity_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str] = mapped_column(Text)
    lookup_hash: Mapped[str] = mapped_column(String(64), index=True)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)


class LegalHold(Base):
    """A legal hold on a case or on a contact (all its cases): nothing held is erased.

    Released holds stay, with who released them and when; a hold is active while
    `released_at` is None. `reason` is the supervisor's note, never copied to the trail.
    """

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None]


class RetentionRule(Base):
    """Keep a category's and/or channel's cases `keep_months` after they closed, then erase.

    Neither category nor channel: the default rule for every case no other rule covers.
    """

    __tablename__ = "retention_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    channel: Mapped[str | None] = mapped_column(String(20))
    keep_months: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # By name: organisation sits above privacy.
    category = relationship("Category", lazy="joined")


class CaseErasure(Base):
    """A case whose content was erased: when, under which rule or for which reason."""

    __tablename__ = "case_erasures"
    __table_args__ = (Index("ix_case_erasures_erased_at", "erased_at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("retention_rules.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
