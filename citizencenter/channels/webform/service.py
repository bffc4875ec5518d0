"""Inquiries from the public web form: spam dropped quietly, real ones become cases."""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.cases.models import Case
from citizencenter.errors import InvalidInput
from citizencenter.organisation.models import Category
from citizencenter.pagination import Page, Paginator

log = logging.getLogger(__name__)
WEBFORM = Principal(actor="public:webform", scopes=frozenset())


def public_categories(session: Session, paginator: Paginator, limit: int | None = None,
                      cursor: str | None = None) -> Page:
    """The categories a citizen may choose in the form."""
    query = select(Category).where(Category.public.is_(True))
    return paginator.page(session, query, (Category.id,), to_key=lambda c: [c.id],
                          from_key=lambda k: (int(k[0]),), filters={"table": "public_categories"},
                          limit=limit, cursor=cursor, descending=False)


def submit_inquiry(session: Session, *, category: str, subject: str, message: str,
                   name: str | None = None, email: str | None = None,
                   phone: str | None = None, website: str = "") -> Case | None:
    """Open a case for an inquiry; a filled honeypot stores nothing and returns None."""
    if website.strip():
        # Nothing of this inquiry was added; a rollback here would also drop the caller's
        # Idempotency-Key record, which the decorator completes after we return.
        log.info("web form: honeypot filled, inquiry dropped")
        return None
    if session.scalar(select(Category.id).where(Category.slug == category,
                                                Category.public.is_(True))) is None:
        raise InvalidInput("category", "Choose one of the published categories.")
    contact = {k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v}
    case = cases.add_case(session, WEBFORM, channel=Channel.WEBFORM, subject=subject,
                          description=message, category=category, contact=contact or None)
    if email:
        outbox.enqueue(session, "email.acknowledge", {"case_id": str(case.id)})
    session.commit()
    return case
