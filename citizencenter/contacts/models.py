from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.db import Base, utcnow


class Contact(Base):
    """A citizen who has reached the centre."""

    __tablename__ = "contacts"
    # The guides' search by part of a name (ILIKE '%…%'): trigram GIN on PostgreSQL.
    __table_args__ = (Index("ix_contacts_name_trgm", "name", postgresql_using="gin",
                            postgresql_ops={"name": "gin_trgm_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # stored lower-case
    phone: Mapped[str | None] = mapped_column(String(16), index=True)  # E.164
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Protected identity (skyddade personuppgifter): its kind, who marked it and when. Its
    # cases are shown only to holders of the protected permission (cases.visible_cases).
    protection: Mapped[str | None] = mapped_column(String(32), index=True)
    protected_by: Mapped[str | None] = mapped_column(String(64))
    protected_at: Mapped[datetime | None]

    identities: Mapped[list["ContactIdentity"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )


class ContactIdentity(Base):
    """An id the citizen has on another service, e.g. a Messenger page-scoped id."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))

    contact: Mapped[Contact] = relationship(back_populates="identities")
