"""Feedback after resolution: invite the citizen once, take their answers once."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from citizencenter import mailer
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput
from citizencenter.feedback import links
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.feedback.sms import SmsSender
from citizencenter.pagination import Paginator

QUESTIONS = ("courtesy", "ease", "clarity")


@dataclass(frozen=True)
class LinkSettings:
    secret_key: str | list[bytes]  # keys.serializer_keys(config, "feedback-links")
    ttl: timedelta
    base_url: str


def link_for(settings: LinkSettings, request: FeedbackRequest) -> str:
    token = links.sign(settings.secret_key, request.nonce)
    return f"{settings.base_url.rstrip('/')}/feedback/{token}"


def _invitation(case: Case, link: str, mail_config) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_config["MAIL_FROM"]
    message["To"] = case.contact.email
    message["Subject"] = f"Hur blev du bemött? [{case.reference}]"
    message["Message-ID"] = make_msgid(domain=mail_config["MAIL_DOMAIN"])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "Hej!\n\nDitt ärende hos Medborgarcenter är avslutat. Vi vill gärna veta hur du "
        "upplevde kontakten med oss. Det tar en halv minut:\n\n"
        f"{link}\n\nLänken fungerar en gång och gäller i "
        f"{mail_config['FEEDBACK_LINK_TTL_DAYS']} dagar.\n\nVänliga hälsningar\n"
        "Medborgarcenter\n")
    return message


def request_feedback(session: Session, case_id: uuid.UUID, settings: LinkSettings,
                     mail_config, sms: SmsSender) -> FeedbackRequest | None:
    """Invite the citizen of a resolved case to rate it; at most once per case."""
    case = session.get(Case, case_id)
    existing = session.scalar(select(FeedbackRequest).where(FeedbackRequest.case_id == case_id))
    if case is None or case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) \
            or (existing is not None and existing.sent_at is not None) or case.contact is None \
            or case.contact.protection is not None:  # never an automatic mail or SMS
        session.rollback()
        return existing
    if not (case.contact.email or case.contact.phone):
        session.rollback()
        return None
    now = utcnow()
    request = existing or FeedbackRequest(
        case_id=case.id, channel=case.channel.value, nonce=secrets.token_urlsafe(18),
        created_at=now, expires_at=now + settings.ttl)
    session.add(request)
    # Stored before it is sent: the link works the moment it arrives, and a retry after a
    # failed send sends the same link again.
    session.commit()
    link = link_for(settings, request)
    if case.contact.email:
        mailer.send(_invitation(case, link, mail_config), mail_config)
        request.via = "email"
    elif sms.send(case.contact.phone,
                  f"Medborgarcenter: hur blev du bemött? Svara här: {link}"):
        request.via = "sms"
    else:
        return None
    request.sent_at = utcnow()
    request.expires_at = request.sent_at + settings.ttl  # a retried send gets the full time
    session.commit()
    return request


def owed_requests(session: Session, since: datetime, before: datetime, sms_configured: bool,
                  limit: int) -> list[uuid.UUID]:
    """Cases resolved in [since, before) whose citizen was never invited to rate them."""
    reachable = Contact.email.is_not(None)
    if sms_configured:
        reachable = reachable | Contact.phone.is_not(None)
    return list(session.scalars(
        select(Case.id).join(Contact, Case.contact_id == Contact.id)
        .outerjoin(FeedbackRequest, FeedbackRequest.case_id == Case.id)
        .where(Case.status == CaseStatus.RESOLVED, Case.resolved_at >= since,
               Case.resolved_at < before, reachable, FeedbackRequest.sent_at.is_(None),
               Contact.protection.is_(None))
        .order_by(Case.resolved_at).limit(limit)))


def open_request(session: Session, token: str, settings: LinkSettings) -> FeedbackRequest:
    """The request a link belongs to, while it can still be answered."""
    nonce = links.nonce_of(settings.secret_key, token, int(settings.ttl.total_seconds()))
    request = session.scalar(select(FeedbackRequest).where(FeedbackRequest.nonce == nonce))
    if request is None:
        raise links.LinkInvalid("Länken är inte giltig.")
    if request.used_at is not None:
        raise links.LinkGone("Du har redan svarat. Tack!")
    if request.expires_at <= utcnow():
        raise links.LinkGone("Länken har gått ut.")
    return request


def parse_answers(form) -> dict[str, int]:
    """Scores 1–5 from the form; InvalidInput names the first missing or wrong one."""
    answers = {}
    for name in QUESTIONS:
        raw = form.get(name, "")
        if raw not in {"1", "2", "3", "4", "5"}:
            raise InvalidInput(name, "Välj ett värde från 1 till 5.")
        answers[name] = int(raw)
    unknown = sorted(set(form) - set(QUESTIONS))
    if unknown:
        raise InvalidInput(unknown[0], "Okänt fält.")
    return answers


def submit(session: Session, token: str, form, settings: LinkSettings) -> FeedbackResponse:
    """Store the citizen's answers; the link is spent in the same transaction."""
    request = open_request(session, token, settings)
    answers = parse_answers(form)
    spent = session.execute(update(FeedbackRequest)
                            .where(FeedbackRequest.id == request.id,
                                   FeedbackRequest.used_at.is_(None))
                            .values(used_at=utcnow()))
    if spent.rowcount != 1:
        session.rollback()
        raise links.LinkGone("Du har redan svarat. Tack!")
    response = FeedbackResponse(request_id=request.id, case_id=request.case_id,
                                channel=request.channel, submitted_at=utcnow(), **answers)
    session.add(response)
    session.commit()
    return response


def list_feedback(session: Session, paginator: Paginator, *, received_from: datetime | None = None,
                  received_to: datetime | None = None, channel: str | None = None,
                  limit: int | None = None, cursor: str | None = None) -> tuple:
    """Answers, newest first, for supervisors; no contact details."""
    query = select(FeedbackResponse)
    filters: dict = {}
    if channel:
        query, filters["channel"] = query.where(FeedbackResponse.channel == channel), channel
    if received_from:
        query = query.where(FeedbackResponse.submitted_at >= received_from)
        filters["from"] = received_from
    if received_to:
        query = query.where(FeedbackResponse.submitted_at < received_to)
        filters["to"] = received_to
    return paginator.page(
        session, query, (FeedbackResponse.submitted_at, FeedbackResponse.id),
        to_key=lambda r: [r.submitted_at.isoformat(), r.id],
        from_key=lambda k: (datetime.fromisoformat(k[0]), int(k[1])),
        filters=filters, limit=limit, cursor=cursor)
