"""What the knowledge base answered: cases marked as answered with an article, the replies
sent with an answer template, the searches made and the report over them (no Flask).

A search is kept folded and without personal data: a query holding a personnummer, an
e-mail address or a phone number is not kept at all. Searching as you type sends the
words one keystroke after another; a query that extends (or shortens) the same person's
previous one within a few seconds replaces it, so the report counts what was looked for,
not every prefix typed on the way.
"""

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Direction
from citizencenter.cases.models import Case, Message
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput
from citizencenter.knowledge import search, service
from citizencenter.knowledge.models import Article, ArticleUse, KnowledgeSearch
from citizencenter.privacy import detection

# Where a reply records the template it was sent with (cases.schemas reserves the key;
# the answers package, above this one, writes it).
TEMPLATE_KEY = "answer_template"
MAX_QUERY = 200
TYPING_WINDOW = timedelta(seconds=10)
REPORT_TOP = 20
_EMAIL = re.compile(r"\S+@\S+")
_MANY_DIGITS = re.compile(r"\d(?:[\s().+/-]{0,2}\d){5}")  # a phone or identity number


def has_personal_data(q: str) -> bool:
    """Whether a query holds a personnummer, an e-mail address or a phone number."""
    return bool(detection.find(q) or _EMAIL.search(q) or _MANY_DIGITS.search(q))


def kept_query(q: str) -> str | None:
    """The query as it is kept (folded), or None when it must not be kept."""
    if has_personal_data(q):
        return None
    folded = search.folded(q)[:MAX_QUERY].strip()
    return folded or None


def record_search(session: Session, principal: Principal, q: str, results: int, *,
                  now: datetime | None = None) -> None:
    """Keep a search and its result count; the caller's read is ended first."""
    query = kept_query(q)
    session.commit()  # ends a GET's read: the write below begins with the write lock
    if query is None:
        return
    now = now or utcnow()
    role = principal.role.value if principal.role else None
    # The write comes first, so SQLite takes its lock before reading anything.
    typed_on = session.execute(
        update(KnowledgeSearch)
        .where(KnowledgeSearch.id == select(func.max(KnowledgeSearch.id))
               .where(KnowledgeSearch.actor == principal.actor,
                      KnowledgeSearch.searched_at >= now - TYPING_WINDOW)
               .scalar_subquery(),
               or_(func.substr(query, 1, func.length(KnowledgeSearch.query))
                   == KnowledgeSearch.query,
                   func.substr(KnowledgeSearch.query, 1, len(query)) == query))
        .values(query=query, results=results, searched_at=now)
        .execution_options(synchronize_session=False))
    if typed_on.rowcount == 0:
        session.add(KnowledgeSearch(query=query, results=results, role=role,
                                    actor=principal.actor, searched_at=now))
    session.commit()


def search_and_record(session: Session, principal: Principal, q: str, limit: int = 10, *,
                      now: datetime | None = None) -> list[dict]:
    """Search the articles (service.search_articles) and keep the search for the report."""
    hits = service.search_articles(session, principal, q, limit)
    record_search(session, principal, q, len(hits), now=now)
    return hits


def _answerable_case(session: Session, principal: Principal, case_id: uuid.UUID) -> Case:
    case = cases_service.get_case(session, principal, case_id)
    if case.content_hidden:
        raise confidentiality.ConfidentialContent("Only those who may read a confidential "
                                                  "case mark what answered it.")
    return case


def mark_answered(session: Session, principal: Principal, case_id: uuid.UUID,
                  article_id: int, *, now: datetime | None = None) -> dict:
    """Record that the case was answered with the article (once per case and article)."""
    case = _answerable_case(session, principal, case_id)
    try:
        article = service.read_article(session, principal, article_id)
    except service.ArticleNotFound:
        raise InvalidInput("article_id", f"No article {article_id}.") from None
    use = session.scalar(select(ArticleUse).where(ArticleUse.case_id == case.id,
                                                  ArticleUse.article_id == article.id))
    if use is None:
        use = ArticleUse(case_id=case.id, article_id=article.id, channel=case.channel.value,
                         used_by=principal.actor, used_at=now or utcnow())
        session.add(use)
        session.flush()
        audit.record(session, principal.actor, "knowledge.case_answered", "case", case.id,
                     article_id=article.id, article_version=article.version)
    session.commit()
    return _shown(use)


def _shown(use: ArticleUse) -> dict:
    return {"article_id": use.article_id, "title": use.article.title, "channel": use.channel,
            "used_by": use.used_by, "used_at": use.used_at}


def answered_with(session: Session, principal: Principal, case_id: uuid.UUID) -> dict:
    """The articles the case was marked as answered with and the templates its replies
    were sent with (reads only)."""
    case = cases_service.get_case(session, principal, case_id)
    return answered_with_case(session, case)


def answered_with_case(session: Session, case: Case) -> dict:
    """`answered_with` for a case the caller has already looked up."""
    uses = list(session.scalars(select(ArticleUse).where(ArticleUse.case_id == case.id)
                                .order_by(ArticleUse.used_at, ArticleUse.id)))
    templates = []
    if not case.content_hidden:
        replies = session.scalars(select(Message).where(
            Message.case_id == case.id, Message.direction == Direction.OUTBOUND)
            .order_by(Message.created_at, Message.id))
        templates = [{"template_id": m.channel_metadata[TEMPLATE_KEY].get("id"),
                      "name": m.channel_metadata[TEMPLATE_KEY].get("name"),
                      "message_id": m.id, "sent_at": m.created_at}
                     for m in replies if (m.channel_metadata or {}).get(TEMPLATE_KEY)]
    return {"articles": [_shown(u) for u in uses],
            "templates": templates}


def knowledge_report(session: Session, start: datetime, end: datetime, *,
                     top: int = REPORT_TOP) -> dict:
    """Articles and templates by use, cases answered with an article per channel, and the
    searches that found nothing, over [start, end)."""
    in_period = and_(ArticleUse.used_at >= start, ArticleUse.used_at < end)
    uses = func.count(ArticleUse.id)
    articles = session.execute(
        select(Article.id, Article.title, uses.label("uses"))
        .join(ArticleUse, ArticleUse.article_id == Article.id).where(in_period)
        .group_by(Article.id, Article.title).order_by(uses.desc(), Article.id))
    cases = func.count(func.distinct(ArticleUse.case_id))
    per_channel = session.execute(
        select(ArticleUse.channel, cases.label("cases")).where(in_period)
        .group_by(ArticleUse.channel).order_by(ArticleUse.channel))
    template_id = Message.channel_metadata[TEMPLATE_KEY]["id"].as_integer()
    template_name = Message.channel_metadata[TEMPLATE_KEY]["name"].as_string()
    sent = func.count(Message.id)
    templates = session.execute(
        select(template_id.label("id"), template_name.label("name"), sent.label("uses"))
        .where(Message.direction == Direction.OUTBOUND, Message.created_at >= start,
               Message.created_at < end, template_id.is_not(None))
        .group_by(template_id, template_name).order_by(sent.desc(), template_id))
    searched = and_(KnowledgeSearch.searched_at >= start, KnowledgeSearch.searched_at < end)
    total, zero = session.execute(
        select(func.count(KnowledgeSearch.id),
               func.coalesce(func.sum(when((KnowledgeSearch.results == 0, 1), else_=0)), 0))
        .where(searched)).one()
    times = func.count(KnowledgeSearch.id)
    missing = session.execute(
        select(KnowledgeSearch.query, times.label("searches"))
        .where(searched, KnowledgeSearch.results == 0)
        .group_by(KnowledgeSearch.query).order_by(times.desc(), KnowledgeSearch.query)
        .limit(top))
    return {"from": start, "to": end,
            "articles": [{"article_id": r.id, "title": r.title, "uses": r.uses}
                         for r in articles],
            "templates": [{"template_id": r.id, "name": r.name, "uses": r.uses}
                          for r in templates],
            "answered_with_article": [{"channel": r.channel, "cases": r.cases}
                                      for r in per_channel],
            "searches": {"total": total, "without_results": int(zero)},
            "searches_without_results": [{"query": r.query, "searches": r.searches}
                                         for r in missing]}

