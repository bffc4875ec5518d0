"""The owning department hears by e-mail of a proposed change to one of its articles, and
of its articles past their review date."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from itertools import groupby

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from citizencenter import mailer
from citizencenter.accounts.models import Department
from citizencenter.db import utcnow
from citizencenter.knowledge.models import Article, Proposal

PROPOSALS_PATH = "/knowledge/proposals"
REMIND_EVERY = timedelta(days=7)  # an overdue article is named again after a week


def _email(proposal: Proposal, article: Article, config: Mapping) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = config["MAIL_FROM"], article.department.email
    message["Subject"] = f"Förslag på ändring: {article.title}"
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    message.set_content(
        f"En ändring föreslås i kunskapsbankens artikel \"{article.title}\" "
        f"(version {proposal.article_version}):\n\n{proposal.note}\n\n"
        + (f"Svara på förslaget här: {base}{PROPOSALS_PATH}\n" if base else
           "Svara på förslaget under Kunskapsbanken.\n"))
    return message


def notify_owner(session: Session, proposal_id: int, config: Mapping) -> bool:
    """Mail the article's department once; raises mailer.MailNotSent so the task retries.
    A department without an address, or a proposal answered meanwhile, gets no mail."""
    proposal = session.get(Proposal, proposal_id)
    article = proposal.article if proposal is not None else None
    if article is None or proposal.notified_at is not None \
            or proposal.handled_at is not None or not article.department.email:
        session.rollback()
        return False
    message = _email(proposal, article, config)
    session.rollback()  # no transaction held open while the mail server answers
    mailer.send(message, config)
    session.execute(update(Proposal).where(Proposal.id == proposal_id)
                    .values(notified_at=utcnow()))
    session.commit()
    return True


def _reminder(department: Department, articles: list[Article], config: Mapping
              ) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = config["MAIL_FROM"], department.email
    message["Subject"] = f"Kunskapsbanken: {len(articles)} artiklar att granska"
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    lines = "\n".join(f"- {a.title} (skulle granskas {a.review_due_at:%Y-%m-%d})"
                      for a in articles)
    message.set_content(
        f"Dessa artiklar från {department.name} har passerat sitt granskningsdatum. "
        "Guiderna svarar medborgarna utifrån dem: kontrollera att de stämmer, ändra det "
        f"som inte gör det och bekräfta granskningen.\n\n{lines}\n\n"
        + (f"Granska här: {base}{PROPOSALS_PATH}\n" if base else
           "Granska under Kunskapsbanken.\n"))
    return message


def remind_reviews(session: Session, config: Mapping, now: datetime | None = None) -> int:
    """Mail each department with an address the articles of theirs past their review
    date, each article at most once a week until it is reviewed; how many mails went.
    A failed send raises mailer.MailNotSent; what was not sent is named on the next run."""
    now = now or utcnow()
    due = session.scalars(
        select(Article).join(Department, Article.department_id == Department.id)
        .where(Article.review_due_at < now, Department.email.is_not(None),
               Department.email != "",
               or_(Article.review_reminded_at.is_(None),
                   Article.review_reminded_at <= now - REMIND_EVERY))
        .order_by(Article.department_id, Article.review_due_at, Article.id)).all()
    mails = []
    for _, group in groupby(due, key=lambda article: article.department_id):
        articles = list(group)
        mails.append((_reminder(articles[0].department, articles, config),
                      [article.id for article in articles]))
    session.rollback()  # no transaction held open while the mail server answers
    for message, article_ids in mails:
        mailer.send(message, config)
        session.execute(update(Article).where(Article.id.in_(article_ids))
                        .values(review_reminded_at=now))
        session.commit()
    return len(mails)
