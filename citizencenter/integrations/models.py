from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.accounts.models import ApiToken
from citizencenter.db import Base, utcnow


class Integration(Base):
    """A system that posts events to us (phone system, mail server, …) with its own
    bearer token and webhook signing secrets (two at once while rotating)."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    secrets_encrypted: Mapped[str] = mapped_column(Text)  # Fernet token of a JSON list
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]

    token: Mapped[ApiToken] = relationship(lazy="joined")


class WebhookDelivery(Base):
    """A webhook-id seen from an integration, to recognise replays."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("integration_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
