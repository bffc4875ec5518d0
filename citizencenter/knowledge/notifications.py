"""The owning department hears of a proposed change to one of its articles by e-mail."""

from collections.abc import Mapping
from email.message import EmailMessage

from sqlalchemy import update
from sqlalchemy.orm import Session

from citizencenter import mailer
from citizencenter.db import utcnow
from citizencenter.knowledge.models import Article, Proposal

PROPOSALS_PATH = "/knowledge/proposals"


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
