"""Reference data the centre is organised by: queues, categories, service points."""

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.accounts.models import Department
from citizencenter.db import Base


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department: Mapped[Department | None] = relationship(lazy="joined")


class ChannelDefaultQueue(Base):
    """Where a case of a channel goes when nothing more specific applies."""

    __tablename__ = "channel_default_queues"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department: Mapped[Department | None] = relationship(lazy="joined")
    # Shown in the public web form's category list.
    public: Mapped[bool] = mapped_column(default=True)
    # Published as an Open311 GeoReport service when it has a service code; the rest is
    # what the service list and definition show (attributes: code, description, datatype,
    # required, order, values as [{key, name}]).
    service_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    service_description: Mapped[str | None] = mapped_column(String(500))
    service_group: Mapped[str | None] = mapped_column(String(100))
    service_keywords: Mapped[list[str] | None] = mapped_column(JSON)
    service_attributes: Mapped[list[dict] | None] = mapped_column(JSON)


class ServicePoint(Base):
    """A walk-in servicepunkt such as Kristallen or Dalby."""

    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
