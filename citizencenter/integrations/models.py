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
    # The secret before the last rotation is accepted until then (None: until the next one).
    previous_secret_valid_until: Mapped[datetime | None]
    # Deliveries refused for their signature: how many and when last (never their body).
    signature_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    last_signature_failure_at: Mapped[datetime | None]
    last_signature_failure: Mapped[str | None] = mapped_column(String(64))  # problem slug
    last_event_at: Mapped[datetime | None]  # the last signed delivery accepted

    token: Mapped[ApiToken] = relationship(lazy="joined")


class WebhookDelivery(Base):
    """A webhook-id seen from an integration, to recognise replays."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("integration_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event_type: Mapped[str | None] = mapped_column(String(64))  # the last event it carried


class DepartmentWebhookTest(Base):
    """A signed test event an administrator sent to a department's webhook, and its fate."""

    __tablename__ = "department_webhook_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
