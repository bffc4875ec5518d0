"""An answer template: a reply's text with fields filled from the case."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.cases.enums import Channel
from citizencenter.db import Base, str_enum, utcnow
from citizencenter.organisation.models import Category


class AnswerTemplate(Base):
    """A svarsmall for a channel and category (either left out: any)."""

    __tablename__ = "answer_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel, 20))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship(lazy="joined")
