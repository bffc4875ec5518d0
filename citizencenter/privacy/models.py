import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

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
