"""Knowledge articles: what the municipality has written down, versioned, with owners."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citizencenter.accounts.models import Department
from citizencenter.db import Base, str_enum, utcnow
from citizencenter.organisation.models import Category

# The document PostgreSQL searches: folded title and tags weigh more than the body. A
# stored generated column `search_document` there, with its GIN index (see the migrations);
# the model leaves it out, as SQLite has neither (it searches an FTS5 table).
SEARCH_VECTOR_SQL = ("setweight(to_tsvector('swedish', search_title), 'A') || "
                     "setweight(to_tsvector('swedish', search_body), 'B')")


class Audience(StrEnum):
    INTERNAL = "internal"  # for the guides
    PUBLIC = "public"  # for the municipality's website too


class Article(Base):
    """A knowledge article in its current version."""

    __tablename__ = "knowledge_articles"
    __table_args__ = (
        Index("ix_knowledge_articles_title_trgm", "search_title", postgresql_using="gin",
              postgresql_ops={"search_title": "gin_trgm_ops"}),
        Index("ix_knowledge_articles_review_due_at", "review_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown, as the owner wrote it
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitised
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    category: Mapped[Category | None] = relationship(lazy="joined")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    department: Mapped[Department] = relationship(lazy="joined")
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, 16))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_interval_months: Mapped[int] = mapped_column(default=12)
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    review_due_at: Mapped[datetime]
    # When the owning department was last reminded of the review (notifications).
    review_reminded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    # Lower-cased words without diacritics, so that "sophamtning" finds "Sophämtning".
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")


class ArticleVersion(Base):
    """One version of an article as it was saved, and who saved which changes."""

    __tablename__ = "knowledge_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    changed_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Proposal(Base):
    """A guide's proposed change to an article: a note to its owning department."""

    __tablename__ = "knowledge_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id"), index=True)
    article_version: Mapped[int]
    note: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]  # when the owning department was mailed
    # The owner's answer: the article was changed, or the proposal declined.
    outcome: Mapped[str | None] = mapped_column(String(16))
    handled_by: Mapped[str | None] = mapped_column(String(100))
    handled_at: Mapped[datetime | None] = mapped_column(index=True)
    article: Mapped[Article] = relationship(lazy="joined", viewonly=True)


class ArticleUse(Base):
    """A case answered with a knowledge article: which, on what channel, by whom, when."""

    __tablename__ = "knowledge_uses"
    __table_args__ = (UniqueConstraint("case_id", "article_id"),
                      Index("ix_knowledge_uses_used_at", "used_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Gone with its case when the case is disposed of (gallring).
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # the case's channel when answered
    used_by: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    article: Mapped[Article] = relationship(lazy="joined")


class KnowledgeSearch(Base):
    """A search in the knowledge base and how many articles it found: folded, never with
    a personnummer, e-mail address or phone number (such a query is not kept)."""

    __tablename__ = "knowledge_searches"
    __table_args__ = (Index("ix_knowledge_searches_searched_at", "searched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int]
    role: Mapped[str | None] = mapped_column(String(20))  # None: a caller without a role
    # Who typed it, so that the words typed one after another count as one search.
    actor: Mapped[str] = mapped_column(String(100))
    searched_at: Mapped[datetime] = mapped_column(default=utcnow)
