import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from citizencenter.db import Base, utcnow


class CitizenLinkRevocation(Base):
    """Staff revoked the citizen's links to a case: every token issued up to `revoked_at`
    is refused (a link issued later, e.g. by a new acknowledgement, works)."""

    __tablename__ = "citizen_link_revocations"

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by: Mapped[str] = mapped_column(String(64))
