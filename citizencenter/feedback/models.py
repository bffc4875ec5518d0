import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from citizencenter.db import Base, utcnow


class FeedbackRequest(Base):
    """An invitation to rate a resolved case; its link names only `nonce`, signed."""

    __tablename__ = "feedback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    via: Mapped[str | None] = mapped_column(String(8))  # email, sms; None: no address
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class FeedbackResponse(Base):
    """The citizen's answers, 1–5 each: courtesy (bemötande), ease and clarity."""

    __tablename__ = "feedback_responses"
    __table_args__ = (Index("ix_feedback_responses_submitted_at", "submitted_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id",
                                                       ondelete="CASCADE"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    courtesy: Mapped[int] = mapped_column(SmallInteger)
    ease: Mapped[int] = mapped_column(SmallInteger)
    clarity: Mapped[int] = mapped_column(SmallInteger)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
