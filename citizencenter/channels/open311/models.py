"""What an Open311 app posted, kept beside the case it became."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.cases.models import Case
from citizencenter.db import Base, utcnow


class Open311Request(Base):
    """A GeoReport service request: its case, the token it can be followed by, its answers."""

    __tablename__ = "open311_requests"
    __table_args__ = (Index("ix_open311_requests_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               unique=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    service_code: Mapped[str] = mapped_column(String(64))
    # The api_key (an API token with the open311:submit scope) that posted it.
    api_token_id: Mapped[int | None]
    # The service definition's attributes as answered: {code: value or [values]}.
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    address_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
