"""Mail that could not be stored on a case, kept whole for an administrator to look at."""

import hashlib
import logging
import traceback
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.channels.email.models import QuarantinedEmail
from citizencenter.errors import NotFound
from citizencenter.pagination import Page, Paginator
from citizencenter.privacy import service as privacy

log = logging.getLogger(__name__)

TOO_LARGE = "too-large"
UNPARSEABLE = "unparseable"
PROCESSING_ERROR = "processing-error"
MAX_ERROR_MESSAGE = 4000
MAX_TRACEBACK = 20000  # the innermost frames, where the cause is, are kept


def quarantine(session: Session, raw: bytes | None, *, size: int, reason: str,
               detail: str | None = None, error: BaseException | None = None,
               mailbox: str | None = None, uidvalidity: int | None = None,
               uid: int | None = None) -> QuarantinedEmail:
    """Keep a message that could not be stored (the caller commits).

    `detail` must name the problem only (an exception class, a parser remark), never
    an address or a line of the message. `error`, the exception that stopped it, is kept
    whole on the row and logged with its traceback but without its message. The same
    IMAP position is kept once.
    """
    if uid is not None:
        existing = session.scalar(select(QuarantinedEmail).where(
            QuarantinedEmail.mailbox == mailbox, QuarantinedEmail.uidvalidity == uidvalidity,
            QuarantinedEmail.uid == uid))
        if existing is not None:
            return existing
    row = QuarantinedEmail(
        mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, size=size,
        raw=privacy.seal_mail(raw) if raw is not None else None,
        sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None)
    record_failure(row, reason, detail, error)
    session.add(row)
    session.flush()
    log_failure(row, error)
    return row


def record_failure(row: QuarantinedEmail, reason: str, detail: str | None,
                   error: BaseException | None) -> None:
    """Put why the message could not be stored on its row (type, message, traceback)."""
    row.reason, row.detail = reason, (detail or "")[:300] or None
    row.error_type = row.error_message = row.traceback = None
    if error is not None:
        row.error_type = _type_name(error)[:200]
        # Masked: an exception's message may quote a line of the mail.
        row.error_message = privacy.mask(str(error))[0][:MAX_ERROR_MESSAGE]
        row.traceback = privacy.mask("".join(traceback.format_exception(error)))[0][
            -MAX_TRACEBACK:]


def _type_name(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"


def log_failure(row: QuarantinedEmail, error: BaseException | None) -> None:
    """Log a quarantined message: its position, reason and the error's frames."""
    if error is None:
        log.warning("e-mail quarantined: id=%s reason=%s mailbox=%s uid=%s", row.id,
                    row.reason, row.mailbox, row.uid)
        return
    # The frames only: an exception's message may quote an address or a line of the mail.
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("e-mail quarantined: id=%s reason=%s mailbox=%s uid=%s error=%s\n"
              "Traceback (most recent call last):\n%s", row.id, row.reason, row.mailbox,
              row.uid, _type_name(error), frames.rstrip("\n"))


def list_quarantined(session: Session, paginator: Paginator, *, limit: int | None = None,
                     cursor: str | None = None) -> Page:
    """Quarantined mail, newest first."""
    return paginator.page(
        session, select(QuarantinedEmail), (QuarantinedEmail.received_at, QuarantinedEmail.id),
        to_key=lambda q: [q.received_at.isoformat(), q.id],
        from_key=lambda k: (datetime.fromisoformat(k[0]), int(k[1])),
        filters={"list": "quarantine"}, limit=limit, cursor=cursor)


def kept_raw(row: QuarantinedEmail) -> bytes | None:
    """The message as received; kept sealed, since it may hold a personnummer in clear."""
    return privacy.open_mail(row.raw) if row.raw is not None else None


def reencrypt_kept_mail(session: Session, secret_keys) -> int:
    """Seal every kept message under the current key; returns how many."""
    sealed = privacy.reseal_mail_column(session, QuarantinedEmail.raw, secret_keys)
    session.commit()
    return sealed


def get_quarantined(session: Session, quarantine_id: int) -> QuarantinedEmail:
    row = session.get(QuarantinedEmail, quarantine_id)
    if row is None:
        raise NotFound("No such quarantined message.")
    return row
