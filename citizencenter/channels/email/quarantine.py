"""Mail that could not be stored on a case, kept whole for an administrator to look at."""

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.channels.email.models import QuarantinedEmail
from citizencenter.errors import NotFound
from citizencenter.pagination import Paginator

log = logging.getLogger(__name__)

TOO_LARGE = "too-large"
UNPARSEABLE = "unparseable"
PROCESSING_ERROR = "processing-error"


def quarantine(session: Session, raw: bytes | None, *, size: int, reason: str,
               detail: str | None = None, mailbox: str | None = None,
               uidvalidity: int | None = None, uid: int | None = None) -> QuarantinedEmail:
    """Keep a message that could not be stored (the caller commits).

    `detail` must name the problem only (an exception class, a parser remark), never
    an address or a line of the message. The same IMAP position is kept once.
    """
    if uid is not None:
        existing = session.scalar(select(QuarantinedEmail).where(
            QuarantinedEmail.mailbox == mailbox, QuarantinedEmail.uidvalidity == uidvalidity,
            QuarantinedEmail.uid == uid))
        if existing is not None:
            return existing
    row = QuarantinedEmail(
        mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, reason=reason,
        detail=(detail or "")[:300] or None, size=size, raw=raw,
        sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None)
    session.add(row)
    session.flush()
    log.warning("e-mail quarantined: id=%s reason=%s mailbox=%s uid=%s", row.id, reason,
                mailbox, uid)
    return row


def list_quarantined(session: Session, paginator: Paginator, *, limit: int | None = None,
                     cursor: str | None = None) -> tuple:
    """Quarantined mail, newest first."""
    return paginator.page(
        session, select(QuarantinedEmail), (QuarantinedEmail.received_at, QuarantinedEmail.id),
        to_key=lambda q: [q.received_at.isoformat(), q.id],
        from_key=lambda k: (datetime.fromisoformat(k[0]), int(k[1])),
        filters={"list": "quarantine"}, limit=limit, cursor=cursor)


def get_quarantined(session: Session, quarantine_id: int) -> QuarantinedEmail:
    row = session.get(QuarantinedEmail, quarantine_id)
    if row is None:
        raise NotFound("No such quarantined message.")
    return row
