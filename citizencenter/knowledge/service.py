"""Knowledge articles: write, version, review, propose changes and search (no Flask)."""

import calendar
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts.models import Department, Role
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.db import utcnow
from citizencenter.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from citizencenter.knowledge import markup, search
from citizencenter.knowledge.models import Article, ArticleVersion, Audience, Proposal
from citizencenter.organisation.models import Category
from citizencenter.pagination import Page, Paginator

VERSIONED = ("title", "body", "category", "department", "audience", "tags")
LIST_LIMIT = 200
PROPOSAL_OUTCOMES = ("changed", "declined")
# The municipality's website, reading without a token: public articles only.
PUBLIC = Principal(actor="public", scopes=frozenset())


class ArticleNotFound(NotFound):
    title, slug = "Article not found", "article-not-found"


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def audiences_for(principal: Principal) -> list[str]:
    """Staff read internal articles too; a token without a role reads the public ones."""
    return [a.value for a in Audience] if principal.role else [Audience.PUBLIC.value]


def is_owner(principal: Principal) -> bool:
    """Owns articles: supervisors and admins all, department staff their department's."""
    return principal.role in (Role.SUPERVISOR, Role.ADMIN, Role.DEPARTMENT)


def may_edit(principal: Principal, department_id: int) -> bool:
    """Supervisors and admins edit every article; department staff their department's."""
    if principal.role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    return principal.role == Role.DEPARTMENT and principal.department_id == department_id


def _require_edit(principal: Principal, department_id: int) -> None:
    if not may_edit(principal, department_id):
        raise Forbidden("Supervisors and the owning department's staff edit articles; "
                        "propose a change instead.")


def _department(session: Session, slug: str) -> Department:
    department = session.scalar(select(Department).where(Department.slug == slug))
    if department is None:
        raise InvalidInput("department", f"No department {slug!r}.")
    return department


def _category(session: Session, slug: str | None) -> Category | None:
    if slug is None:
        return None
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise InvalidInput("category", f"No category {slug!r}.")
    return category


def _snapshot(article: Article) -> dict:
    return {"title": article.title, "body": article.body,
            "category": article.category.slug if article.category else None,
            "department": article.department.slug, "audience": article.audience.value,
            "tags": list(article.tags)}


def _save_version(session: Session, article: Article, principal: Principal,
                  changed: list[str], now: datetime) -> None:
    article.body_html = markup.render(article.body)
    article.search_title = search.folded(" ".join([article.title, *article.tags]))
    article.search_body = search.folded(markup.plain_text(article.body_html))
    article.updated_at, article.updated_by = now, principal.actor
    session.flush()
    search.sync_sqlite(session, article.id, article.search_title, article.search_body)
    session.add(ArticleVersion(article_id=article.id, version=article.version,
                               changed_fields=changed, changed_by=principal.actor,
                               changed_at=now, **_snapshot(article)))


def create_article(session: Session, principal: Principal, *, title: str, body: str,
                   department: str, audience: str, category: str | None = None,
                   tags: list[str] | None = None, review_interval_months: int = 12,
                   now: datetime | None = None) -> Article:
    """Write a new article, owned by a department."""
    now = now or utcnow()
    owner = _department(session, department)
    _require_edit(principal, owner.id)
    article = Article(title=title, body=body, department=owner, audience=Audience(audience),
                      category=_category(session, category), tags=sorted(set(tags or [])),
                      review_interval_months=review_interval_months, reviewed_at=now,
                      review_due_at=add_months(now, review_interval_months), version=1,
                      created_at=now)
    session.add(article)
    _save_version(session, article, principal, list(VERSIONED), now)
    audit.record(session, principal.actor, "knowledge.article_created", "knowledge_article",
                 article.id, version=1, department=owner.slug)
    session.commit()
    return article


def _get(session: Session, principal: Principal, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or article.audience.value not in audiences_for(principal):
        raise ArticleNotFound(f"No article {article_id}.")
    return article


def read_article(session: Session, principal: Principal, article_id: int) -> Article:
    """An article the caller may read."""
    return _get(session, principal, article_id)


def update_article(session: Session, principal: Principal, article_id: int,
                   expected_version: int | None, changes: dict, *,
                   now: datetime | None = None) -> Article:
    """Change an article: a new version, the earlier ones kept."""
    now = now or utcnow()
    article = _get(session, principal, article_id)
    _require_edit(principal, article.department_id)
    # Two owners editing at once: the second must have seen the first's version.
    if expected_version is None:
        raise PreconditionRequired("Send the article's ETag in If-Match.")
    if expected_version != article.version:
        raise PreconditionFailed(f"The article is at version {article.version}; "
                                 "read it again and redo the change.")
    before = _snapshot(article)
    if "department" in changes:
        owner = _department(session, changes["department"])
        _require_edit(principal, owner.id)
        article.department = owner
    if "category" in changes:
        article.category = _category(session, changes["category"])
    for field in ("title", "body"):
        if field in changes:
            setattr(article, field, changes[field])
    if "audience" in changes:
        article.audience = Audience(changes["audience"])
    if "tags" in changes:
        article.tags = sorted(set(changes["tags"]))
    if "review_interval_months" in changes:
        article.review_interval_months = changes["review_interval_months"]
        article.review_due_at = add_months(article.reviewed_at, article.review_interval_months)
    changed = [f for f in VERSIONED if _snapshot(article)[f] != before[f]]
    if changed:
        article.version += 1
        _save_version(session, article, principal, changed, now)
    audit.record(session, principal.actor, "knowledge.article_changed", "knowledge_article",
                 article.id, version=article.version, fields=sorted(changes))
    session.commit()
    return article


def confirm_review(session: Session, principal: Principal, article_id: int, *,
                   now: datetime | None = None) -> Article:
    """The owner confirms the article is still right: the next review is N months on."""
    now = now or utcnow()
    article = _get(session, principal, article_id)
    _require_edit(principal, article.department_id)
    article.reviewed_at = now
    article.review_due_at = add_months(now, article.review_interval_months)
    audit.record(session, principal.actor, "knowledge.article_reviewed", "knowledge_article",
                 article.id, version=article.version)
    session.commit()
    return article


def reviews_due(session: Session, principal: Principal, now: datetime | None = None
                ) -> list[Article]:
    """The articles past their review date that the caller confirms, the longest overdue
    first: every article for supervisors and admins, their department's for its staff."""
    if not is_owner(principal):
        raise Forbidden("Supervisors and the owning department's staff review articles.")
    query = select(Article).where(Article.review_due_at < (now or utcnow()))
    if principal.role == Role.DEPARTMENT:
        query = query.where(Article.department_id == principal.department_id)
    return list(session.scalars(query.order_by(Article.review_due_at, Article.id)
                                .limit(LIST_LIMIT)))


def list_articles(session: Session, principal: Principal, *, overdue: bool | None = None,
                  department: str | None = None, category: str | None = None,
                  audience: str | None = None, now: datetime | None = None) -> list[Article]:
    """Articles the caller may read, by title; `overdue` lists those past their review."""
    now = now or utcnow()
    query = select(Article).where(Article.audience.in_(audiences_for(principal)))
    if overdue is not None:
        query = query.where(Article.review_due_at < now if overdue
                            else Article.review_due_at >= now)
    if department is not None:
        query = query.join(Department, Article.department_id == Department.id) \
            .where(Department.slug == department)
    if category is not None:
        query = query.where(Article.category_id.in_(
            select(Category.id).where(Category.slug == category)))
    if audience is not None:
        query = query.where(Article.audience == audience)
    return list(session.scalars(query.order_by(Article.review_due_at if overdue
                                               else Article.title, Article.id)
                                .limit(LIST_LIMIT)))


def public_articles(session: Session, paginator: Paginator, *, limit: int | None = None,
                    cursor: str | None = None, category: str | None = None) -> Page:
    """The public articles by title, a page at a time: what the website lists."""
    query = select(Article).where(Article.audience == Audience.PUBLIC)
    if category is not None:
        query = query.where(Article.category_id.in_(
            select(Category.id).where(Category.slug == category)))
    return paginator.page(session, query, (Article.title, Article.id),
                          to_key=lambda a: [a.title, a.id],
                          from_key=lambda k: (str(k[0]), int(k[1])),
                          filters={"list": "public_articles", "category": category},
                          limit=limit, cursor=cursor, descending=False)


def list_versions(session: Session, principal: Principal,
                  article_id: int) -> list[ArticleVersion]:
    """Every version of an article, newest first."""
    _get(session, principal, article_id)
    return list(session.scalars(select(ArticleVersion)
                                .where(ArticleVersion.article_id == article_id)
                                .order_by(ArticleVersion.version.desc())))


def read_version(session: Session, principal: Principal, article_id: int,
                 version: int) -> ArticleVersion:
    """One earlier (or the current) version of an article."""
    _get(session, principal, article_id)
    found = session.scalar(select(ArticleVersion).where(
        ArticleVersion.article_id == article_id, ArticleVersion.version == version))
    if found is None:
        raise NotFound(f"Article {article_id} has no version {version}.")
    return found


def propose_change(session: Session, principal: Principal, article_id: int,
                   note: str) -> Proposal:
    """A note to the owning department proposing a change to the article."""
    article = _get(session, principal, article_id)
    if principal.role is None:
        raise Forbidden("Only staff propose changes to articles.")
    proposal = Proposal(article_id=article.id, article_version=article.version, note=note,
                        proposed_by=principal.actor)
    session.add(proposal)
    session.flush()
    audit.record(session, principal.actor, "knowledge.change_proposed", "knowledge_article",
                 article.id, proposal_id=proposal.id)
    outbox.enqueue(session, "knowledge.change_proposed", {"proposal_id": proposal.id})
    session.commit()
    return proposal


def proposals_to_handle(session: Session, principal: Principal) -> list[Proposal]:
    """The proposals waiting for the caller's answer, oldest first: every article's for
    supervisors and admins, their department's articles' for department staff."""
    if not is_owner(principal):
        raise Forbidden("Supervisors and the owning department's staff handle proposals.")
    query = select(Proposal).where(Proposal.handled_at.is_(None))
    if principal.role == Role.DEPARTMENT:
        query = query.where(Proposal.article.has(Article.department_id == principal.department_id))
    return list(session.scalars(query.order_by(Proposal.proposed_at, Proposal.id)
                                .limit(LIST_LIMIT)))


def my_proposals(session: Session, principal: Principal) -> list[Proposal]:
    """The caller's own proposals, newest first, with the owner's answer once given."""
    return list(session.scalars(
        select(Proposal).where(Proposal.proposed_by == principal.actor)
        .order_by(Proposal.proposed_at.desc(), Proposal.id.desc()).limit(LIST_LIMIT)))


def handle_proposal(session: Session, principal: Principal, proposal_id: int,
                    outcome: str) -> Proposal:
    """The owner's answer to a proposal: the article was changed, or the proposal declined.
    Answered once; a second answer (another owner's, meanwhile) is a conflict."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    article = proposal.article
    if not may_edit(principal, article.department_id):
        raise Forbidden("Supervisors and the owning department's staff handle proposals.")
    if outcome not in PROPOSAL_OUTCOMES:
        raise InvalidInput("outcome", f"One of {', '.join(PROPOSAL_OUTCOMES)}.")
    answered = session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.handled_at.is_(None))
        .values(outcome=outcome, handled_by=principal.actor, handled_at=utcnow()))
    if answered.rowcount != 1:
        session.rollback()
        raise Conflict("The proposal was answered already.")
    audit.record(session, principal.actor, "knowledge.proposal_handled", "knowledge_article",
                 article.id, proposal_id=proposal_id, outcome=outcome)
    session.commit()
    session.refresh(proposal)
    return proposal


def list_proposals(session: Session, principal: Principal, article_id: int) -> list[Proposal]:
    """The proposed changes to an article, newest first."""
    _get(session, principal, article_id)
    return list(session.scalars(select(Proposal).where(Proposal.article_id == article_id)
                                .order_by(Proposal.id.desc())))


def search_articles(session: Session, principal: Principal, q: str,
                    limit: int = 10) -> list[dict]:
    """Articles answering a Swedish query, best first, with highlighted snippets."""
    query = search.parse(q)
    ids = search.candidates(session, query, audiences_for(principal))
    # Scored once each from the search columns; the database's order breaks ties. Only
    # the page's articles are loaded and highlighted.
    scores = {row.id: search.score(query, row.search_title, row.search_body)
              for row in session.execute(select(Article.id, Article.search_title,
                                                Article.search_body)
                                         .where(Article.id.in_(ids)))}
    order = {i: n for n, i in enumerate(ids)}
    ranked = sorted(ids, key=lambda i: (-scores[i], order[i]))[:limit]
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ranked)))}
    return [{"article": articles[i],
             "score": scores[i],
             "title_html": search.highlight(query, articles[i].title),
             "snippet_html": search.highlight(query, markup.plain_text(articles[i].body_html),
                                              window=search.SNIPPET_WORDS)}
            for i in ranked]
