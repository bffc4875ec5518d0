"""Business calendars: a calendar and the immutable versions of its hours."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.cases.enums import Channel
from citizencenter.db import Base, str_enum, utcnow
from citizencenter.organisation.models import ServicePoint


class SlaCalendar(Base):
    """Opening hours of a channel or service point; each change adds a version."""

    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel, 20))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    current_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    service_point: Mapped[ServicePoint | None] = relationship(lazy="joined")
    versions: Mapped[list["SlaCalendarVersion"]] = relationship(
        back_populates="calendar", order_by="SlaCalendarVersion.version", lazy="selectin")


class SlaCalendarVersion(Base):
    """One immutable state of a calendar's hours; timers remember the version they used."""

    __tablename__ = "sla_calendar_versions"
    __table_args__ = (UniqueConstraint("calendar_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id"))
    version: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    swedish_holidays: Mapped[bool] = mapped_column(default=True)
    # {"monday": ["08:00-12:00", "13:00-17:00"], …}; a weekday left out is closed.
    weekly_hours: Mapped[dict] = mapped_column(JSON)
    closed_dates: Mapped[list] = mapped_column(JSON, default=list)  # ["2026-12-23", …]
    shortened_days: Mapped[dict] = mapped_column(JSON, default=dict)  # {"2026-04-30": [...]}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    calendar: Mapped[SlaCalendar] = relationship(back_populates="versions")
